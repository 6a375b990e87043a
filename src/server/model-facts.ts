// Facts about a model's GGUF that requests need (capabilities, context limits, chat template),
// read once per blob: blobs are content-addressed, so a digest's facts never change.
import { readGguf, type GgufFile } from "../gguf/reader.js";
import {
  architecture,
  chatTemplate,
  contextLength,
  embeddingLength,
  fileTypeName,
  kvBytesPerToken,
  parameterCount,
  poolingType,
  RANK_POOLING,
  tokenText,
} from "../gguf/info.js";

export interface ModelFacts {
  architecture: string;
  parameterCount: number;
  fileType: string;
  contextLength?: number;
  embeddingLength?: number;
  chatTemplate?: string;
  hasPooling: boolean;
  /** A reranker (rank pooling). */
  ranks: boolean;
  /** Bytes of f16 KV cache one token of context takes (0 when the header does not say). */
  kvBytesPerToken: number;
  hasVision: boolean;
  bosText: string;
  eosText: string;
  /** Fill-in-the-middle token texts, when the vocabulary has prefix and suffix tokens. */
  fim?: { prefix: string; suffix: string; middle: string };
}

// The token texts llama.cpp recognises as FIM tokens when the GGUF does not name their ids.
const FIM_NAMES = {
  prefix: ["<|fim_prefix|>", "<fim-prefix>", "<｜fim▁begin｜>", "<fim_prefix>", "<PRE>", "▁<PRE>", "<|code_prefix|>"],
  suffix: ["<|fim_suffix|>", "<fim-suffix>", "<｜fim▁hole｜>", "<fim_suffix>", "<SUF>", "▁<SUF>", "<|code_suffix|>"],
  middle: ["<|fim_middle|>", "<fim-middle>", "<｜fim▁end｜>", "<fim_middle>", "<MID>", "▁<MID>", "<|code_middle|>"],
};

/** FIM token texts from tokenizer.ggml.fim_*_token_id (or the older *_token_id keys), else by known names. */
function fimTokens(f: GgufFile, num: (key: string) => number | undefined) {
  const tokens = f.metadata.get("tokenizer.ggml.tokens")?.value;
  const list = Array.isArray(tokens) ? (tokens as unknown[]) : [];
  const find = (kind: "prefix" | "suffix" | "middle", short: string) => {
    const id = num(`tokenizer.ggml.fim_${short}_token_id`) ?? num(`tokenizer.ggml.${kind}_token_id`);
    if (id !== undefined && typeof list[id] === "string") return list[id] as string;
    return FIM_NAMES[kind].find((n) => list.includes(n));
  };
  const prefix = find("prefix", "pre");
  const suffix = find("suffix", "suf");
  if (!prefix || !suffix) return undefined;
  return { prefix, suffix, middle: find("middle", "mid") ?? "" };
}

const cache = new Map<string, Promise<ModelFacts>>();

async function read(path: string): Promise<ModelFacts> {
  const f = await readGguf(path);
  const arch = architecture(f);
  const num = (key: string) => {
    const v = f.metadata.get(key)?.value;
    return typeof v === "number" ? v : typeof v === "bigint" ? Number(v) : undefined;
  };
  return {
    architecture: arch,
    parameterCount: parameterCount(f),
    fileType: fileTypeName(f),
    contextLength: contextLength(f),
    embeddingLength: embeddingLength(f),
    chatTemplate: chatTemplate(f),
    hasPooling: poolingType(f) !== undefined,
    ranks: poolingType(f) === RANK_POOLING,
    kvBytesPerToken: kvBytesPerToken(f),
    hasVision: f.metadata.has(`${arch}.vision.block_count`),
    bosText: tokenText(f, num("tokenizer.ggml.bos_token_id")),
    eosText: tokenText(f, num("tokenizer.ggml.eos_token_id")),
    fim: fimTokens(f, num),
  };
}

export function modelFacts(path: string): Promise<ModelFacts> {
  let p = cache.get(path);
  if (!p) {
    p = read(path);
    p.catch(() => cache.delete(path));
    cache.set(path, p);
  }
  return p;
}
