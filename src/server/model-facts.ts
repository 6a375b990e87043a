// Facts about a model's GGUF that requests need (capabilities, context limits, chat template),
// read once per blob: blobs are content-addressed, so a digest's facts never change.
import { readGguf } from "../gguf/reader.js";
import {
  architecture,
  chatTemplate,
  contextLength,
  embeddingLength,
  fileTypeName,
  parameterCount,
  poolingType,
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
  hasVision: boolean;
  bosText: string;
  eosText: string;
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
    hasVision: f.metadata.has(`${arch}.vision.block_count`),
    bosText: tokenText(f, num("tokenizer.ggml.bos_token_id")),
    eosText: tokenText(f, num("tokenizer.ggml.eos_token_id")),
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
