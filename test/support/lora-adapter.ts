// LoRA adapters for stories260K written at test time: as a GGUF (llama.cpp's layout) and as the same
// matrices in a PEFT safetensors directory (Hugging Face's row order for q/k).
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { GgmlType, GgufValueType } from "../../src/gguf/types.js";
import { encodeF32, writeGguf } from "../../src/gguf/writer.js";
import { permuteRows } from "../../src/gguf/safetensors/tensors.js";
import { normals } from "../../bench/random-model.js";
import { safetensorsBytes } from "./hf-export.js";

export interface LoraPair {
  /** Base tensor, e.g. blk.0.attn_q.weight */
  target: string;
  inDim: number;
  outDim: number;
  /** [r][in] row-major (PyTorch's lora_A) */
  a: Float32Array;
  /** [out][r] row-major (PyTorch's lora_B), rows in llama.cpp's order */
  b: Float32Array;
}

const STORIES_TARGETS: [string, number, number][] = [];
for (let l = 0; l < 5; l++) STORIES_TARGETS.push([`blk.${l}.attn_q.weight`, 64, 64], [`blk.${l}.attn_k.weight`, 64, 32], [`blk.${l}.ffn_down.weight`, 172, 64]);

export function randomPairs(r: number, seed: number, scaleB = 1): LoraPair[] {
  const rnd = normals(seed);
  return STORIES_TARGETS.map(([target, inDim, outDim]) => {
    const a = new Float32Array(r * inDim).map(() => rnd() * 0.3);
    const b = new Float32Array(outDim * r).map(() => rnd() * 0.3 * scaleB);
    return { target, inDim, outDim, a, b };
  });
}

export async function writeLoraGguf(path: string, pairs: LoraPair[], r: number, alpha: number, arch = "llama"): Promise<void> {
  await writeGguf(
    path,
    [
      ["general.architecture", { type: GgufValueType.STRING, value: arch }],
      ["general.type", { type: GgufValueType.STRING, value: "adapter" }],
      ["adapter.type", { type: GgufValueType.STRING, value: "lora" }],
      ["adapter.lora.alpha", { type: GgufValueType.FLOAT32, value: alpha }],
    ],
    pairs.flatMap((p) => [
      { name: `${p.target}.lora_a`, type: GgmlType.F32, shape: [p.inDim, r], data: encodeF32(p.a) },
      { name: `${p.target}.lora_b`, type: GgmlType.F32, shape: [r, p.outDim], data: encodeF32(p.b) },
    ]),
  );
}

const HF_MODULE: Record<string, string> = { attn_q: "self_attn.q_proj", attn_k: "self_attn.k_proj", ffn_down: "mlp.down_proj" };

/** The same adapter as PEFT writes it; q/k B rows go back to Hugging Face's order. */
export async function writePeftAdapter(dir: string, pairs: LoraPair[], r: number, alpha: number, heads = { q: 8, k: 4 }): Promise<void> {
  await mkdir(dir, { recursive: true });
  const tensors = pairs.flatMap((p) => {
    const [, layer, kind] = /^blk\.(\d+)\.(\w+)\.weight$/.exec(p.target)!;
    const prefix = `base_model.model.model.layers.${layer}.${HF_MODULE[kind!]}`;
    let b = p.b;
    if (kind === "attn_q" || kind === "attn_k") {
      const buf = permuteRows(Buffer.from(b.buffer.slice(0)), p.outDim, kind === "attn_q" ? heads.q : heads.k, true);
      b = new Float32Array(buf.buffer, buf.byteOffset, buf.length / 4);
    }
    return [
      { name: `${prefix}.lora_A.weight`, shape: [r, p.inDim], data: p.a },
      { name: `${prefix}.lora_B.weight`, shape: [p.outDim, r], data: b },
    ];
  });
  await writeFile(join(dir, "adapter_model.safetensors"), safetensorsBytes(tensors));
  await writeFile(join(dir, "adapter_config.json"), JSON.stringify({ peft_type: "LORA", r, lora_alpha: alpha, target_modules: ["q_proj", "k_proj", "down_proj"] }));
}
