// The embedding endpoints (/api/embed, legacy /api/embeddings): requests, decoders, responses.
import { decodeStruct, t } from "./decode.js";
import { decodeKeepAlive, type KeepAlive } from "./duration.js";
import { ApiError } from "./errors.js";

export interface EmbedRequest {
  model?: string;
  /** Always a list after decoding; a single string becomes one input, "" none. */
  input?: string[];
  truncate?: boolean;
  dimensions?: number;
  keep_alive?: KeepAlive;
  options?: Record<string, unknown>;
}

function decodeInput(v: unknown): string[] {
  if (typeof v === "string") return v === "" ? [] : [v];
  if (Array.isArray(v) && v.every((s) => typeof s === "string")) return v;
  throw new ApiError(400, "invalid input type");
}

export function decodeEmbedRequest(body: unknown): EmbedRequest {
  return decodeStruct<EmbedRequest>(body, "EmbedRequest", {
    model: t.string,
    input: t.custom(decodeInput),
    truncate: t.bool,
    dimensions: t.int,
    keep_alive: t.custom(decodeKeepAlive),
    options: t.map,
  });
}

export interface EmbedResponse {
  model: string;
  embeddings: number[][];
  total_duration?: number;
  load_duration?: number;
  prompt_eval_count?: number;
}

export interface EmbeddingsRequest {
  model?: string;
  prompt?: string;
  keep_alive?: KeepAlive;
  options?: Record<string, unknown>;
}

export function decodeEmbeddingsRequest(body: unknown): EmbeddingsRequest {
  return decodeStruct<EmbeddingsRequest>(body, "EmbeddingRequest", {
    model: t.string,
    prompt: t.string,
    keep_alive: t.custom(decodeKeepAlive),
    options: t.map,
  });
}

export interface EmbeddingsResponse {
  embedding: number[];
}
