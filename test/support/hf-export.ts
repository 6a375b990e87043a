// Writes Hugging Face model directories at test time: a GGUF llama exported back to safetensors
// (q/k rows in Hugging Face's order, a SentencePiece tokenizer.model), and random-weight models of
// the other supported families.
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { readGguf, type GgufFile } from "../../src/gguf/reader.js";
import { readTensorF32 } from "../../src/gguf/tensor-data.js";
import { permuteRows } from "../../src/gguf/safetensors/tensors.js";
import { normals } from "../../bench/random-model.js";

export interface StTensor {
  name: string;
  /** PyTorch order */
  shape: number[];
  data: Float32Array;
  dtype?: "F32" | "F16" | "BF16";
}

function encode(t: StTensor): Buffer {
  const dtype = t.dtype ?? "F32";
  if (dtype === "F32") return Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength);
  const out = Buffer.alloc(t.data.length * 2);
  const u = new Uint32Array(t.data.buffer, t.data.byteOffset, t.data.length);
  for (let i = 0; i < t.data.length; i++) {
    if (dtype === "BF16") out.writeUInt16LE(u[i]! >>> 16, i * 2); // truncation is fine for test data
    else {
      const f = new Float32Array([t.data[i]!]);
      out.writeUInt16LE(f32ToF16(f[0]!), i * 2);
    }
  }
  return out;
}

function f32ToF16(x: number): number {
  const f = new Float32Array([x]);
  const b = new Uint32Array(f.buffer)[0]!;
  const s = (b >>> 16) & 0x8000;
  const e = ((b >>> 23) & 0xff) - 127 + 15;
  if (e <= 0) return s;
  if (e >= 31) return s | 0x7c00;
  return s | (e << 10) | ((b >>> 13) & 0x3ff);
}

/** One safetensors file; `lie` lets tests corrupt the header. */
export function safetensorsBytes(tensors: StTensor[], lie?: (header: Record<string, any>) => void): Buffer {
  const header: Record<string, any> = { __metadata__: { format: "pt" } };
  const datas: Buffer[] = [];
  let off = 0;
  for (const t of tensors) {
    const b = encode(t);
    header[t.name] = { dtype: t.dtype ?? "F32", shape: t.shape, data_offsets: [off, off + b.length] };
    datas.push(b);
    off += b.length;
  }
  lie?.(header);
  let json = JSON.stringify(header);
  json += " ".repeat((8 - (json.length % 8)) % 8);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(Buffer.byteLength(json)));
  return Buffer.concat([len, Buffer.from(json), ...datas]);
}

/** Writes model.safetensors, or `shards` files plus model.safetensors.index.json. */
export async function writeSafetensors(dir: string, tensors: StTensor[], shards = 1): Promise<void> {
  if (shards === 1) return writeFile(join(dir, "model.safetensors"), safetensorsBytes(tensors));
  const weightMap: Record<string, string> = {};
  const per = Math.ceil(tensors.length / shards);
  for (let s = 0; s < shards; s++) {
    const name = `model-${String(s + 1).padStart(5, "0")}-of-${String(shards).padStart(5, "0")}.safetensors`;
    const part = tensors.slice(s * per, (s + 1) * per);
    for (const t of part) weightMap[t.name] = name;
    await writeFile(join(dir, name), safetensorsBytes(part));
  }
  await writeFile(join(dir, "model.safetensors.index.json"), JSON.stringify({ metadata: {}, weight_map: weightMap }));
}

// ---- SentencePiece tokenizer.model (protobuf) ----

function varint(n: number): number[] {
  const out: number[] = [];
  let v = BigInt.asUintN(64, BigInt(n));
  do {
    let b = Number(v & 0x7fn);
    v >>= 7n;
    if (v) b |= 0x80;
    out.push(b);
  } while (v);
  return out;
}
const field = (f: number, wire: number) => varint((f << 3) | wire);
const bytesField = (f: number, b: Buffer) => Buffer.concat([Buffer.from(field(f, 2)), Buffer.from(varint(b.length)), b]);

export function sentencePieceModel(pieces: { piece: string; score: number; type: number }[], ids = { unk: 0, bos: 1, eos: 2, pad: -1 }): Buffer {
  const parts: Buffer[] = [];
  for (const p of pieces) {
    const score = Buffer.alloc(4);
    score.writeFloatLE(p.score);
    const msg = Buffer.concat([bytesField(1, Buffer.from(p.piece)), Buffer.from(field(2, 5)), score, Buffer.from([...field(3, 0), ...varint(p.type)])]);
    parts.push(bytesField(1, msg));
  }
  const trainer = Buffer.from([...field(3, 0), 2, ...field(40, 0), ...varint(ids.unk), ...field(41, 0), ...varint(ids.bos), ...field(42, 0), ...varint(ids.eos), ...field(43, 0), ...varint(ids.pad)]);
  parts.push(bytesField(2, trainer));
  parts.push(bytesField(3, Buffer.from([...field(3, 0), 1])));
  return Buffer.concat(parts);
}

export function spmPiecesOf(g: GgufFile) {
  const tokens = g.metadata.get("tokenizer.ggml.tokens")!.value as string[];
  const scores = g.metadata.get("tokenizer.ggml.scores")!.value as number[];
  const types = g.metadata.get("tokenizer.ggml.token_type")!.value as number[];
  return tokens.map((piece, i) => ({ piece, score: scores[i]!, type: types[i]! }));
}

export const CHAT_TEMPLATE = "{% for m in messages %}<|{{ m.role }}|>{{ m.content }}{% endfor %}<|assistant|>";

/** A GGUF llama (stories260K) as a Hugging Face LlamaForCausalLM directory. */
export async function exportLlamaGguf(gguf: string, dir: string, opts: { shards?: number; dtype?: "F32" | "F16" | "BF16" } = {}): Promise<void> {
  await mkdir(dir, { recursive: true });
  const g = await readGguf(gguf);
  const n = (k: string) => Number(g.metadata.get(`llama.${k}`)!.value);
  const dim = n("embedding_length");
  const heads = n("attention.head_count");
  const kvHeads = n("attention.head_count_kv");
  const tensors: StTensor[] = [];
  const hfName = (name: string) => {
    if (name === "token_embd.weight") return "model.embed_tokens.weight";
    if (name === "output_norm.weight") return "model.norm.weight";
    if (name === "output.weight") return "lm_head.weight";
    const m = /^blk\.(\d+)\.(\w+)\.weight$/.exec(name)!;
    const mod = { attn_norm: "input_layernorm", attn_q: "self_attn.q_proj", attn_k: "self_attn.k_proj", attn_v: "self_attn.v_proj",
      attn_output: "self_attn.o_proj", ffn_norm: "post_attention_layernorm", ffn_gate: "mlp.gate_proj", ffn_up: "mlp.up_proj", ffn_down: "mlp.down_proj" }[m[2]!]!;
    return `model.layers.${m[1]}.${mod}.weight`;
  };
  for (const t of g.tensors) {
    let data = await readTensorF32(gguf, g, t);
    const shape = [...t.shape].reverse();
    if (/attn_[qk]\.weight$/.test(t.name)) {
      const buf = permuteRows(Buffer.from(data.buffer), shape[0]!, t.name.includes("attn_q") ? heads : kvHeads, true);
      data = new Float32Array(buf.buffer, buf.byteOffset, buf.length / 4);
    }
    tensors.push({ name: hfName(t.name), shape, data, dtype: shape.length > 1 ? opts.dtype : undefined });
  }
  await writeSafetensors(dir, tensors, opts.shards);
  await writeFile(join(dir, "config.json"), JSON.stringify({
    architectures: ["LlamaForCausalLM"], model_type: "llama", hidden_size: dim, intermediate_size: n("feed_forward_length"),
    num_attention_heads: heads, num_key_value_heads: kvHeads, num_hidden_layers: n("block_count"), rms_norm_eps: 1e-5,
    max_position_embeddings: n("context_length"), vocab_size: tensors[0]!.shape[0], rope_theta: 10000, tie_word_embeddings: false,
    torch_dtype: "float32", bos_token_id: 1, eos_token_id: 2,
  }));
  await writeFile(join(dir, "tokenizer.model"), sentencePieceModel(spmPiecesOf(g)));
  await writeFile(join(dir, "tokenizer_config.json"), JSON.stringify({
    add_bos_token: true, add_eos_token: false, bos_token: "<s>", eos_token: "</s>", unk_token: "<unk>", chat_template: CHAT_TEMPLATE,
  }));
}

/** A random-weight model of `family` with the given vocabulary size, in Hugging Face's layout. */
export async function writeRandomHf(dir: string, family: "qwen2" | "gemma" | "mistral", vocab: number, seed = 5): Promise<void> {
  await mkdir(dir, { recursive: true });
  const dim = 64, heads = 4, kvHeads = 2, hd = 16, ffn = 128, layers = 2;
  const rnd = normals(seed);
  const rand = (name: string, shape: number[], scale = 0.05): StTensor => {
    const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
    for (let i = 0; i < data.length; i++) data[i] = rnd() * scale;
    return { name, shape, data };
  };
  const norm = (name: string): StTensor => ({ name, shape: [dim], data: new Float32Array(dim).fill(family === "gemma" ? 0 : 1) });
  const tensors: StTensor[] = [rand("model.embed_tokens.weight", [vocab, dim], 0.5), norm("model.norm.weight")];
  for (let l = 0; l < layers; l++) {
    const p = `model.layers.${l}.`;
    tensors.push(
      norm(p + "input_layernorm.weight"), norm(p + "post_attention_layernorm.weight"),
      rand(p + "self_attn.q_proj.weight", [heads * hd, dim]), rand(p + "self_attn.k_proj.weight", [kvHeads * hd, dim]),
      rand(p + "self_attn.v_proj.weight", [kvHeads * hd, dim]), rand(p + "self_attn.o_proj.weight", [dim, heads * hd]),
      rand(p + "mlp.gate_proj.weight", [ffn, dim]), rand(p + "mlp.up_proj.weight", [ffn, dim]), rand(p + "mlp.down_proj.weight", [dim, ffn]),
    );
    if (family === "qwen2") {
      tensors.push(rand(p + "self_attn.q_proj.bias", [heads * hd]), rand(p + "self_attn.k_proj.bias", [kvHeads * hd]), rand(p + "self_attn.v_proj.bias", [kvHeads * hd]));
    }
  }
  if (family !== "gemma") tensors.push(rand("lm_head.weight", [vocab, dim]));
  await writeSafetensors(dir, tensors);
  const arch = { qwen2: "Qwen2ForCausalLM", gemma: "GemmaForCausalLM", mistral: "MistralForCausalLM" }[family];
  await writeFile(join(dir, "config.json"), JSON.stringify({
    architectures: [arch], model_type: family, hidden_size: dim, intermediate_size: ffn, num_attention_heads: heads,
    num_key_value_heads: kvHeads, head_dim: hd, num_hidden_layers: layers, rms_norm_eps: 1e-6, max_position_embeddings: 512,
    vocab_size: vocab, rope_theta: 10000, tie_word_embeddings: family === "gemma",
  }));
}
