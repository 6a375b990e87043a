// /v1/embeddings: OpenAI's embedding request on top of /api/embed (vectors normalised the same way).
import { ApiError, badRequest } from "../../api/errors.js";
import type { EmbedRequest, EmbedResponse } from "../../api/embed.js";
import type { OpenAIEmbeddingRequest } from "../../api/openai.js";

export function toNativeEmbed(r: OpenAIEmbeddingRequest): { req: EmbedRequest; base64: boolean } {
  const format = (r.encoding_format ?? "float").toLowerCase();
  if (format !== "float" && format !== "base64") {
    throw badRequest(`Invalid value for 'encoding_format' = ${r.encoding_format}. Supported values: ['float', 'base64'].`);
  }
  let input: string[];
  if (r.input === "") input = [""];
  else if (typeof r.input === "string") input = [r.input];
  else if (Array.isArray(r.input) && r.input.length > 0) {
    if (!r.input.every((s) => typeof s === "string")) throw badRequest("invalid input type");
    input = r.input as string[];
  } else if (r.input == null || (Array.isArray(r.input) && r.input.length === 0)) throw badRequest("invalid input");
  else throw badRequest("invalid input type");
  if (r.dimensions !== undefined && (!Number.isInteger(r.dimensions) || r.dimensions < 0)) {
    throw new ApiError(400, "invalid dimensions");
  }
  return { req: { model: r.model, input, dimensions: r.dimensions }, base64: format === "base64" };
}

/** Little-endian float32 bytes, base64 (what the SDKs decode for encoding_format "base64"). */
function base64Vector(v: number[]): string {
  return Buffer.from(new Float32Array(v).buffer).toString("base64");
}

export function toEmbeddingList(native: EmbedResponse, model: string, base64: boolean) {
  const tokens = native.prompt_eval_count ?? 0;
  return {
    object: "list",
    data: native.embeddings.map((embedding, index) => ({
      object: "embedding",
      embedding: base64 ? base64Vector(embedding) : embedding,
      index,
    })),
    model,
    usage: { prompt_tokens: tokens, total_tokens: tokens },
  };
}
