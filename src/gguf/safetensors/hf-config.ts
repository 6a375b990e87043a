// A Hugging Face config.json → the architecture GGUF names and its hyperparameter metadata.
import { GgufValueType } from "../types.js";
import type { GgufWriteValue } from "../writer.js";
import { SafetensorsError } from "./reader.js";

/** Tensor layout families: mistral is llama's layout under another name. */
export type Family = "llama" | "qwen2" | "gemma" | "gpt2";

export interface HfModel {
  family: Family;
  /** GGUF general.architecture */
  arch: string;
  name: string;
  dim: number;
  layers: number;
  heads: number;
  kvHeads: number;
  headDim: number;
  ffn: number;
  contextLength: number;
  eps: number;
  ropeTheta: number;
  tieEmbeddings: boolean;
  ropeScaling?: { type: string; factor: number; originalContext?: number; lowFreqFactor?: number; highFreqFactor?: number };
  raw: Record<string, unknown>;
}

const FAMILIES: Record<string, Family> = {
  LlamaForCausalLM: "llama", MistralForCausalLM: "llama", Qwen2ForCausalLM: "qwen2", GemmaForCausalLM: "gemma",
  GPT2LMHeadModel: "gpt2", GPT2Model: "gpt2",
  llama: "llama", mistral: "llama", qwen2: "qwen2", gemma: "gemma", gpt2: "gpt2",
};

export function parseHfConfig(raw: unknown, fallbackName: string): HfModel {
  if (!raw || typeof raw !== "object" || Array.isArray(raw)) throw new SafetensorsError("config.json is not a JSON object");
  const c = raw as Record<string, unknown>;
  const archs = Array.isArray(c.architectures) ? (c.architectures as unknown[]).map(String) : [];
  const key = archs.find((a) => a in FAMILIES) ?? (typeof c.model_type === "string" && c.model_type in FAMILIES ? c.model_type : undefined);
  if (!key)
    throw new SafetensorsError(`unsupported architecture ${archs[0] ?? String(c.model_type)}: supported are llama, mistral, qwen2, gemma and gpt2`);
  const family = FAMILIES[key]!;

  const int = (...keys: string[]): number | undefined => {
    for (const k of keys) {
      const v = c[k];
      if (v === undefined || v === null) continue;
      if (typeof v !== "number" || !Number.isSafeInteger(v) || v <= 0) throw new SafetensorsError(`config.json: ${k} must be a positive integer, got ${JSON.stringify(v)}`);
      return v;
    }
    return undefined;
  };
  const need = (...keys: string[]) => {
    const v = int(...keys);
    if (v === undefined) throw new SafetensorsError(`config.json: ${keys[0]} is missing`);
    return v;
  };
  const num = (k: string, def: number) => (typeof c[k] === "number" ? (c[k] as number) : def);

  const gpt2 = family === "gpt2";
  const dim = need(...(gpt2 ? ["n_embd", "hidden_size"] : ["hidden_size"]));
  const heads = need(...(gpt2 ? ["n_head", "num_attention_heads"] : ["num_attention_heads"]));
  const kvHeads = int("num_key_value_heads") ?? heads;
  const headDim = int("head_dim") ?? dim / heads;
  if (!Number.isInteger(headDim)) throw new SafetensorsError(`config.json: hidden size ${dim} is not a multiple of ${heads} heads`);
  if (heads % kvHeads) throw new SafetensorsError(`config.json: ${heads} heads is not a multiple of ${kvHeads} key/value heads`);

  const m: HfModel = {
    family,
    arch: family,
    name: typeof c._name_or_path === "string" && c._name_or_path ? c._name_or_path.split("/").pop()! : fallbackName,
    dim,
    layers: need(...(gpt2 ? ["n_layer", "num_hidden_layers"] : ["num_hidden_layers"])),
    heads,
    kvHeads,
    headDim,
    // gpt2's n_inner null means 4 * n_embd (its intermediate_size is not used by the model).
    ffn: gpt2 ? int("n_inner") ?? 4 * dim : need("intermediate_size"),
    contextLength: need(...(gpt2 ? ["n_positions", "n_ctx"] : ["max_position_embeddings"])),
    eps: gpt2 ? num("layer_norm_epsilon", 1e-5) : num("rms_norm_eps", 1e-6),
    ropeTheta: num("rope_theta", 10000),
    tieEmbeddings: c.tie_word_embeddings === undefined ? family === "gemma" || gpt2 : c.tie_word_embeddings === true,
    raw: c,
  };
  const rs = c.rope_scaling as Record<string, unknown> | null | undefined;
  if (rs && typeof rs === "object") {
    const type = String(rs.rope_type ?? rs.type ?? "");
    const factor = Number(rs.factor);
    if (!["linear", "llama3", "yarn"].includes(type) || !(factor > 0)) throw new SafetensorsError(`config.json: unsupported rope_scaling ${JSON.stringify(rs)}`);
    m.ropeScaling = {
      type, factor,
      originalContext: typeof rs.original_max_position_embeddings === "number" ? rs.original_max_position_embeddings : undefined,
      lowFreqFactor: typeof rs.low_freq_factor === "number" ? rs.low_freq_factor : undefined,
      highFreqFactor: typeof rs.high_freq_factor === "number" ? rs.high_freq_factor : undefined,
    };
  }
  return m;
}

const u32 = (value: number): GgufWriteValue => ({ type: GgufValueType.UINT32, value });
const f32 = (value: number): GgufWriteValue => ({ type: GgufValueType.FLOAT32, value });
const str = (value: string): GgufWriteValue => ({ type: GgufValueType.STRING, value });

export function archMetadata(m: HfModel, nVocab: number): [string, GgufWriteValue][] {
  const a = m.arch;
  const kv: [string, GgufWriteValue][] = [
    ["general.architecture", str(a)],
    ["general.name", str(m.name)],
    [`${a}.context_length`, u32(m.contextLength)],
    [`${a}.embedding_length`, u32(m.dim)],
    [`${a}.block_count`, u32(m.layers)],
    [`${a}.feed_forward_length`, u32(m.ffn)],
    [`${a}.attention.head_count`, u32(m.heads)],
    [`${a}.attention.head_count_kv`, u32(m.kvHeads)],
  ];
  if (m.family === "gpt2") {
    kv.push([`${a}.attention.layer_norm_epsilon`, f32(m.eps)]);
    return kv;
  }
  kv.push(
    [`${a}.attention.layer_norm_rms_epsilon`, f32(m.eps)],
    [`${a}.rope.freq_base`, f32(m.ropeTheta)],
    [`${a}.rope.dimension_count`, u32(m.headDim)],
  );
  if (m.headDim !== m.dim / m.heads || m.family === "gemma")
    kv.push([`${a}.attention.key_length`, u32(m.headDim)], [`${a}.attention.value_length`, u32(m.headDim)]);
  if (m.family === "llama") kv.push([`${a}.vocab_size`, u32(nVocab)]);
  const rs = m.ropeScaling;
  if (rs && rs.type !== "llama3") {
    kv.push([`${a}.rope.scaling.type`, str(rs.type)], [`${a}.rope.scaling.factor`, f32(rs.factor)]);
    if (rs.originalContext) kv.push([`${a}.rope.scaling.original_context_length`, u32(rs.originalContext)]);
  }
  return kv;
}

/**
 * Llama 3.1-style rope scaling as per-frequency divisors (GGUF's rope_freqs tensor): long wavelengths
 * are slowed by `factor`, short ones kept, the band between blended smoothly.
 */
export function llama3RopeFactors(m: HfModel): Float32Array {
  const rs = m.ropeScaling!;
  const low = rs.lowFreqFactor ?? 1;
  const high = rs.highFreqFactor ?? 4;
  const orig = rs.originalContext ?? 8192;
  const out = new Float32Array(m.headDim / 2);
  for (let i = 0; i < out.length; i++) {
    const freq = 1 / m.ropeTheta ** ((2 * i) / m.headDim);
    const wavelen = (2 * Math.PI) / freq;
    if (wavelen < orig / high) out[i] = 1;
    else if (wavelen > orig / low) out[i] = rs.factor;
    else {
      const smooth = (orig / wavelen - low) / (high - low);
      out[i] = 1 / ((1 - smooth) / rs.factor + smooth);
    }
  }
  return out;
}
