// A random-weight BERT embedding model (mean pooling), or a reranker (rank pooling with a classifier
// head), with the real bge WordPiece tokenizer, written at test time: there is no real embedding model
// small enough to ship.
import { readGguf } from "../src/gguf/reader.js";
import { GgmlType, GgufValueType as T } from "../src/gguf/types.js";
import { encodeF32, writeGguf, type GgufWriteTensor, type GgufWriteValue } from "../src/gguf/writer.js";
import { fileURLToPath } from "node:url";
import { normals } from "./random-model.js";

// The shared test models sit beside the repository (this file runs from dist/bench/).
const VOCAB = fileURLToPath(new URL("../../../shared/models/vocab/ggml-vocab-bert-bge.gguf", import.meta.url));

export async function buildRandomBert(
  path: string,
  shape = { dim: 64, ff: 128, layers: 2, heads: 4, ctx: 512 },
  pooling: "mean" | "rank" = "mean",
  /** Rank pooling only: a classifier whose output layer is zero with this bias, so every pair scores it. */
  constantScore?: number,
): Promise<void> {
  const vocab = await readGguf(VOCAB);
  const nVocab = (vocab.metadata.get("tokenizer.ggml.tokens")!.value as unknown[]).length;
  const md = new Map<string, GgufWriteValue>();
  for (const [k, v] of vocab.metadata) if (k.startsWith("tokenizer.")) md.set(k, v as GgufWriteValue);
  const u32 = (value: number) => ({ type: T.UINT32, value });
  md.set("general.architecture", { type: T.STRING, value: "bert" });
  md.set("general.name", { type: T.STRING, value: "random-bert" });
  md.set("general.file_type", u32(0));
  md.set("bert.context_length", u32(shape.ctx));
  md.set("bert.embedding_length", u32(shape.dim));
  md.set("bert.feed_forward_length", u32(shape.ff));
  md.set("bert.block_count", u32(shape.layers));
  md.set("bert.attention.head_count", u32(shape.heads));
  md.set("bert.attention.layer_norm_epsilon", { type: T.FLOAT32, value: 1e-12 });
  md.set("bert.attention.causal", { type: T.BOOL, value: false });
  md.set("bert.pooling_type", u32(pooling === "rank" ? 4 : 1));

  const rand = normals(7);
  const tensor = (name: string, shape: number[], fill?: number): GgufWriteTensor => {
    const n = shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(n);
    for (let i = 0; i < n; i++) data[i] = fill ?? rand() * 0.05;
    return { name, type: GgmlType.F32, shape, data: encodeF32(data) };
  };
  const { dim, ff } = shape;
  const tensors = [
    tensor("token_embd.weight", [dim, nVocab]),
    tensor("token_types.weight", [dim, 2]),
    tensor("position_embd.weight", [dim, shape.ctx]),
    tensor("token_embd_norm.weight", [dim], 1),
    tensor("token_embd_norm.bias", [dim], 0),
  ];
  for (let i = 0; i < shape.layers; i++) {
    const b = `blk.${i}`;
    for (const p of ["attn_q", "attn_k", "attn_v", "attn_output"]) {
      tensors.push(tensor(`${b}.${p}.weight`, [dim, dim]), tensor(`${b}.${p}.bias`, [dim]));
    }
    tensors.push(
      tensor(`${b}.attn_output_norm.weight`, [dim], 1),
      tensor(`${b}.attn_output_norm.bias`, [dim], 0),
      tensor(`${b}.ffn_up.weight`, [dim, ff]),
      tensor(`${b}.ffn_up.bias`, [ff]),
      tensor(`${b}.ffn_down.weight`, [ff, dim]),
      tensor(`${b}.ffn_down.bias`, [dim]),
      tensor(`${b}.layer_output_norm.weight`, [dim], 1),
      tensor(`${b}.layer_output_norm.bias`, [dim], 0),
    );
  }
  if (pooling === "rank") {
    // The classifier llama.cpp applies to the [CLS] state: dense + tanh, then one output (the score).
    const c = constantScore;
    tensors.push(
      tensor("cls.weight", [dim, dim]),
      tensor("cls.bias", [dim]),
      tensor("cls.output.weight", [dim, 1], c === undefined ? undefined : 0),
      tensor("cls.output.bias", [1], c),
    );
  }
  await writeGguf(path, md, tensors);
}
