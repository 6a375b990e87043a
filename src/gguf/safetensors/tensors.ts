// Hugging Face tensor names → GGUF names, and the per-tensor changes llama.cpp's layouts need:
// q/k rows of llama-layout models reordered for its rotary embedding, gpt2's Conv1D weights
// transposed, gemma's norms stored as 1 + w. Data is streamed per tensor in chunks; only tensors
// that are reordered are held in memory, one at a time.
import { GgmlType } from "../types.js";
import { encodeF32, type GgufWriteTensor } from "../writer.js";
import { llama3RopeFactors, type HfModel } from "./hf-config.js";
import { DTYPE_SIZE, numel, readRange, readTensor, SafetensorsError, type SafetensorsTensor } from "./reader.js";
import { f16ToF32 } from "../tensor-data.js";

type Op = "copy" | "f32" | "permute" | "transpose";

export interface TensorPlan {
  name: string;
  source: SafetensorsTensor;
  op: Op;
  /** Heads of the q or k projection being permuted. */
  heads?: number;
  /** Gemma norms: stored as 1 + w. */
  addOne?: boolean;
}

const LLAMA_LAYER: Record<string, string> = {
  "input_layernorm": "attn_norm",
  "self_attn.q_proj": "attn_q",
  "self_attn.k_proj": "attn_k",
  "self_attn.v_proj": "attn_v",
  "self_attn.o_proj": "attn_output",
  "post_attention_layernorm": "ffn_norm",
  "mlp.gate_proj": "ffn_gate",
  "mlp.up_proj": "ffn_up",
  "mlp.down_proj": "ffn_down",
};
const LLAMA_TOP: Record<string, string> = { "model.embed_tokens": "token_embd", "model.norm": "output_norm", "lm_head": "output" };

const GPT2_LAYER: Record<string, string> = {
  "ln_1": "attn_norm", "attn.c_attn": "attn_qkv", "attn.c_proj": "attn_output", "ln_2": "ffn_norm",
  "mlp.c_fc": "ffn_up", "mlp.c_proj": "ffn_down",
};
const GPT2_TOP: Record<string, string> = { wte: "token_embd", wpe: "position_embd", ln_f: "output_norm", lm_head: "output" };

/**
 * GGUF name of a llama-layout module path ("model.layers.3.self_attn.q_proj" → "blk.3.attn_q"),
 * or undefined. Shared with the LoRA converter, whose adapters name the same modules.
 */
export function llamaModuleName(module: string): string | undefined {
  if (module in LLAMA_TOP) return LLAMA_TOP[module];
  const m = /^model\.layers\.(\d+)\.(.+)$/.exec(module);
  const n = m && LLAMA_LAYER[m[2]!];
  return n ? `blk.${m![1]}.${n}` : undefined;
}

function gpt2ModuleName(module: string): string | undefined {
  const p = module.replace(/^transformer\./, "");
  if (p in GPT2_TOP) return GPT2_TOP[p];
  const m = /^h\.(\d+)\.(.+)$/.exec(p);
  const n = m && GPT2_LAYER[m[2]!];
  return n ? `blk.${m![1]}.${n}` : undefined;
}

const IGNORED = [/rotary_emb\.inv_freq$/, /(^|\.)attn\.(masked_)?bias$/];

export function planTensors(m: HfModel, tensors: Map<string, SafetensorsTensor>): TensorPlan[] {
  const plans: TensorPlan[] = [];
  for (const t of tensors.values()) {
    if (IGNORED.some((r) => r.test(t.name))) continue;
    const dot = t.name.lastIndexOf(".");
    const suffix = t.name.slice(dot + 1);
    const module = t.name.slice(0, dot);
    const base = (m.family === "gpt2" ? gpt2ModuleName : llamaModuleName)(module);
    if (!base || (suffix !== "weight" && suffix !== "bias")) throw new SafetensorsError(`unsupported tensor ${t.name} for ${m.family}`);
    if (!(t.dtype === "F32" || t.dtype === "F16" || t.dtype === "BF16")) throw new SafetensorsError(`tensor ${t.name}: unsupported dtype ${t.dtype}`);
    if (t.shape.length < 1 || t.shape.length > 2 || numel(t.shape) === 0) throw new SafetensorsError(`tensor ${t.name}: unsupported shape ${JSON.stringify(t.shape)}`);
    const plan: TensorPlan = { name: `${base}.${suffix}`, source: t, op: t.shape.length === 1 ? "f32" : "copy" };
    if (m.family === "llama" && /\.attn_[qk]$/.test(base)) {
      plan.op = "permute";
      plan.heads = base.endsWith("attn_q") ? m.heads : m.kvHeads;
    }
    if (m.family === "gpt2" && /\.(attn_qkv|attn_output|ffn_up|ffn_down)$/.test(base) && suffix === "weight") plan.op = "transpose";
    if (m.family === "gemma" && base.endsWith("norm")) plan.addOne = true;
    // A tied head is the embedding itself; llama.cpp reuses token_embd when output is absent.
    if (plan.name === "output.weight" && m.tieEmbeddings && tensors.has(m.family === "gpt2" ? "transformer.wte.weight" : "model.embed_tokens.weight")) continue;
    plans.push(plan);
  }
  checkRequired(m, plans);
  return plans;
}

function checkRequired(m: HfModel, plans: TensorPlan[]): void {
  const have = new Map(plans.map((p) => [p.name, p]));
  const per = m.family === "gpt2"
    ? ["attn_norm.weight", "attn_qkv.weight", "attn_output.weight", "ffn_norm.weight", "ffn_up.weight", "ffn_down.weight"]
    : ["attn_norm.weight", "attn_q.weight", "attn_k.weight", "attn_v.weight", "attn_output.weight", "ffn_norm.weight", "ffn_up.weight", "ffn_down.weight", "ffn_gate.weight"];
  const want = ["token_embd.weight", "output_norm.weight", ...(m.family === "gpt2" ? ["position_embd.weight"] : [])];
  for (let i = 0; i < m.layers; i++) for (const p of per) want.push(`blk.${i}.${p}`);
  for (const w of want) if (!have.has(w)) throw new SafetensorsError(`tensor for ${w} is missing from the safetensors files`);
  const emb = have.get("token_embd.weight")!.source.shape;
  if (emb[1] !== m.dim) throw new SafetensorsError(`embedding width ${emb[1]} does not match hidden size ${m.dim} in config.json`);
  for (const p of plans) {
    const blk = /^blk\.(\d+)\./.exec(p.name);
    if (blk && Number(blk[1]) >= m.layers) throw new SafetensorsError(`tensor ${p.source.name} is beyond the ${m.layers} layers in config.json`);
    if (p.op === "permute") {
      const rows = p.source.shape[0]!;
      if (rows !== p.heads! * m.headDim) throw new SafetensorsError(`tensor ${p.source.name}: ${rows} rows, expected ${p.heads} heads of ${m.headDim}`);
    }
  }
}

const GGML_OF: Record<string, GgmlType> = { F32: GgmlType.F32, F16: GgmlType.F16, BF16: GgmlType.BF16 };

function toF32(buf: Buffer, dtype: string): Float32Array {
  const n = buf.length / DTYPE_SIZE[dtype]!;
  const out = new Float32Array(n);
  if (dtype === "F32") for (let i = 0; i < n; i++) out[i] = buf.readFloatLE(i * 4);
  else if (dtype === "BF16") {
    const u = new Uint32Array(out.buffer);
    for (let i = 0; i < n; i++) u[i] = buf.readUInt16LE(i * 2) << 16;
  } else for (let i = 0; i < n; i++) out[i] = f16ToF32(buf.readUInt16LE(i * 2));
  return out;
}


/**
 * Rows of a q/k projection from Hugging Face's rotate-half order (per head: all first halves, then
 * all second halves) to the interleaved pairs llama.cpp's rotary embedding expects.
 */
export function permuteRows(buf: Buffer, rows: number, heads: number, inverse = false): Buffer {
  const rowBytes = buf.length / rows;
  const hd = rows / heads;
  const half = hd / 2;
  const out = Buffer.allocUnsafe(buf.length);
  for (let h = 0; h < heads; h++) {
    for (let i = 0; i < half; i++) {
      for (let j = 0; j < 2; j++) {
        const hf = h * hd + j * half + i;
        const gg = h * hd + i * 2 + j;
        const [from, to] = inverse ? [gg, hf] : [hf, gg];
        buf.copy(out, to * rowBytes, from * rowBytes, (from + 1) * rowBytes);
      }
    }
  }
  return out;
}

function transpose(buf: Buffer, rows: number, cols: number, size: number): Buffer {
  const out = Buffer.allocUnsafe(buf.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) buf.copy(out, (c * rows + r) * size, (r * cols + c) * size, (r * cols + c + 1) * size);
  return out;
}

export function toWriteTensor(p: TensorPlan): GgufWriteTensor {
  const s = p.source;
  const shape = [...s.shape].reverse();
  if (p.op === "f32") {
    return {
      name: p.name, type: GgmlType.F32, shape,
      data: async function* () {
        const v = toF32(await readTensor(s), s.dtype);
        if (p.addOne) for (let i = 0; i < v.length; i++) v[i] = v[i]! + 1;
        yield encodeF32(v);
      },
    };
  }
  const type = GGML_OF[s.dtype]!;
  if (p.op === "transpose") {
    return { name: p.name, type, shape: [s.shape[0]!, s.shape[1]!], data: async function* () { yield transpose(await readTensor(s), s.shape[0]!, s.shape[1]!, DTYPE_SIZE[s.dtype]!); } };
  }
  if (p.op === "permute") {
    return { name: p.name, type, shape, data: async function* () { yield permuteRows(await readTensor(s), s.shape[0]!, p.heads!); } };
  }
  return { name: p.name, type, shape, data: () => readRange(s.path, s.start, s.end - s.start) };
}

/** Extra tensors llama.cpp wants that Hugging Face computes at run time. */
export function extraTensors(m: HfModel): GgufWriteTensor[] {
  if (m.family === "llama" && m.ropeScaling?.type === "llama3") {
    const f = llama3RopeFactors(m);
    return [{ name: "rope_freqs.weight", type: GgmlType.F32, shape: [f.length], data: encodeF32(f) }];
  }
  return [];
}
