// The rerank endpoints (/api/rerank, /v1/rerank; Jina's and Cohere's shape): a query scored against
// each document by a reranking model, best first.
import { decodeStruct, t } from "./decode.js";
import { decodeKeepAlive, type KeepAlive } from "./duration.js";
import { ApiError } from "./errors.js";

export interface RerankRequest {
  model?: string;
  query?: string;
  documents?: string[];
  /** How many of the best documents to return; absent or 0: all. */
  top_n?: number;
  /** Echo each returned document's text. */
  return_documents?: boolean;
  keep_alive?: KeepAlive;
  options?: Record<string, unknown>;
}

/** Documents as strings, or as Jina's `{"text": ...}` objects. */
function decodeDocuments(v: unknown): string[] {
  if (!Array.isArray(v)) throw new ApiError(400, "documents must be an array");
  return v.map((d, i) => {
    if (typeof d === "string") return d;
    const text = d !== null && typeof d === "object" ? (d as { text?: unknown }).text : undefined;
    if (typeof text === "string") return text;
    throw new ApiError(400, `documents[${i}] must be a string or an object with a "text" string`);
  });
}

export function decodeRerankRequest(body: unknown): RerankRequest {
  const req = decodeStruct<RerankRequest>(body, "RerankRequest", {
    model: t.string,
    query: t.string,
    documents: t.custom(decodeDocuments),
    top_n: t.int,
    return_documents: t.bool,
    keep_alive: t.custom(decodeKeepAlive),
    options: t.map,
  });
  if (req.top_n !== undefined && req.top_n < 0) throw new ApiError(400, "top_n must not be negative");
  return req;
}

export interface RerankResult {
  /** The document's position in the request. */
  index: number;
  relevance_score: number;
  document?: { text: string };
}

export interface RerankResponse {
  model: string;
  /** Highest score first. */
  results: RerankResult[];
  usage: { prompt_tokens: number; total_tokens: number };
}
