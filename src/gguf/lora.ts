// LoRA adapters as llama.cpp loads them: a GGUF with general.type "adapter", adapter.type "lora",
// adapter.lora.alpha, and for each adapted base tensor W a pair W.lora_a [in, r] and W.lora_b [r, out].
// Checked against the base model at create time, so a bad adapter is a 400, not a failed load later.
// PEFT safetensors adapters of llama-family bases are converted to that form.
import { readFile } from "node:fs/promises";
import { kvNumber, kvString, architecture } from "./info.js";
import type { GgufFile } from "./reader.js";
import { GgufValueType } from "./types.js";
import { writeGguf, type GgufWriteValue } from "./writer.js";
import { openSafetensorsModel } from "./safetensors/reader.js";
import { llamaModuleName, toWriteTensor, type TensorPlan } from "./safetensors/tensors.js";

export class LoraError extends Error {
  override name = "LoraError";
}

export function isAdapter(f: GgufFile): boolean {
  return kvString(f, "general.type") === "adapter";
}

/** Throws LoraError unless llama.cpp would accept `adapter` on `base`. */
export function validateAdapter(adapter: GgufFile, base: GgufFile): void {
  if (!isAdapter(adapter)) throw new LoraError("the adapter GGUF is not an adapter (general.type is not \"adapter\")");
  if (kvString(adapter, "adapter.type") !== "lora") throw new LoraError(`unsupported adapter type ${JSON.stringify(kvString(adapter, "adapter.type") ?? "")}: only lora`);
  if (architecture(adapter) !== architecture(base))
    throw new LoraError(`adapter architecture ${architecture(adapter)} does not match the model's ${architecture(base)}`);
  const baseShapes = new Map(base.tensors.map((t) => [t.name, t.shape]));
  const pairs = new Map<string, { a?: number[]; b?: number[] }>();
  for (const t of adapter.tensors) {
    const m = /^(.+)\.lora_([ab])$/.exec(t.name);
    if (!m) {
      if (t.name.endsWith("_norm.weight")) continue; // llama.cpp skips these too
      throw new LoraError(`adapter tensor ${t.name} is not a lora_a/lora_b tensor`);
    }
    const p = pairs.get(m[1]!) ?? {};
    p[m[2] as "a" | "b"] = t.shape;
    pairs.set(m[1]!, p);
  }
  if (pairs.size === 0) throw new LoraError("the adapter has no lora tensors");
  for (const [name, { a, b }] of pairs) {
    if (!a || !b) throw new LoraError(`adapter tensor ${name} lacks its lora_${a ? "b" : "a"} half`);
    const w = baseShapes.get(name);
    if (!w) throw new LoraError(`adapter tensor ${name} does not exist in the base model`);
    const ok = name.endsWith("token_embd.weight")
      ? w[0] === b[1] && w[1] === a[1]
      : w[0] === a[0] && w[1] === b[1] && a[1] === b[0];
    if (!ok) throw new LoraError(`adapter tensor ${name}: lora_a [${a}] / lora_b [${b}] do not fit the model's [${w}]`);
  }
}

const LLAMA_FAMILY = new Set(["llama", "qwen2", "gemma"]);

/**
 * Converts a PEFT adapter (adapter_config.json + adapter_model.safetensors) for the llama-family model
 * `base` to a GGUF LoRA at `output`.
 */
export async function convertPeftAdapter(files: Map<string, string>, base: GgufFile, output: string): Promise<void> {
  const arch = architecture(base);
  if (!LLAMA_FAMILY.has(arch)) throw new LoraError(`safetensors adapters are supported for llama-family models, not ${arch}`);
  const cfgPath = files.get("adapter_config.json");
  if (!cfgPath) throw new LoraError("adapter_config.json is missing from the adapter files");
  let cfg: Record<string, unknown>;
  try {
    cfg = JSON.parse(await readFile(cfgPath, "utf8"));
  } catch (e) {
    throw new LoraError(`adapter_config.json: ${(e as Error).message}`);
  }
  const r = Number(cfg.r);
  const alpha = Number(cfg.lora_alpha ?? r);
  if (!(r > 0) || !(alpha > 0)) throw new LoraError("adapter_config.json: r and lora_alpha must be positive numbers");
  // llama.cpp scales by alpha / r; rank-stabilised LoRA means alpha / sqrt(r).
  const ggufAlpha = cfg.use_rslora === true ? alpha * Math.sqrt(r) : alpha;

  const tensors = await openSafetensorsModel(files, (n) => n.endsWith(".safetensors"));
  const heads = { q: kvNumber(base, `${arch}.attention.head_count`) ?? 0, k: kvNumber(base, `${arch}.attention.head_count_kv`) ?? 0 };
  heads.k ||= heads.q;
  const plans: TensorPlan[] = [];
  for (const t of tensors.values()) {
    const m = /^base_model\.model\.(.+)\.lora_([AB])(?:\.[A-Za-z0-9_-]+)?\.weight$/.exec(t.name);
    const module = m && llamaModuleName(m[1]!);
    if (!m || !module) throw new LoraError(`unsupported adapter tensor ${t.name}`);
    if (t.shape.length !== 2 || !["F32", "F16", "BF16"].includes(t.dtype)) throw new LoraError(`adapter tensor ${t.name}: unsupported ${t.dtype} ${JSON.stringify(t.shape)}`);
    const isB = m[2] === "B";
    const plan: TensorPlan = { name: `${module}.weight.lora_${isB ? "b" : "a"}`, source: t, op: "copy" };
    // B's rows are the output rows of W, which the model conversion reorders for llama's rotary embedding.
    if (isB && arch === "llama" && /\.attn_[qk]$/.test(module)) {
      plan.op = "permute";
      plan.heads = module.endsWith("attn_q") ? heads.q : heads.k;
      if (t.shape[0]! % (2 * plan.heads) !== 0) throw new LoraError(`adapter tensor ${t.name}: ${t.shape[0]} rows do not split into ${plan.heads} heads`);
    }
    plans.push(plan);
  }
  const meta: [string, GgufWriteValue][] = [
    ["general.architecture", { type: GgufValueType.STRING, value: arch }],
    ["general.type", { type: GgufValueType.STRING, value: "adapter" }],
    ["adapter.type", { type: GgufValueType.STRING, value: "lora" }],
    ["adapter.lora.alpha", { type: GgufValueType.FLOAT32, value: ggufAlpha }],
  ];
  await writeGguf(output, meta, plans.map(toWriteTensor));
}

