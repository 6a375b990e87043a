// /v1/completions: a text completion becomes a templated /api/generate request.
import { randomInt } from "node:crypto";
import { badRequest } from "../../api/errors.js";
import { decodeGenerateRequest, type GenerateRequest, type GenerateResponse } from "../../api/inference.js";
import { usageOf, type OpenAICompletionRequest } from "../../api/openai.js";
import { completionLogprobs } from "./logprobs.js";
import { openAIOptions, stopList } from "./translate.js";

export function toNativeGenerate(r: OpenAICompletionRequest): GenerateRequest {
  if (r.prompt !== undefined && typeof r.prompt !== "string") throw badRequest("invalid prompt: only a string prompt is supported");
  return decodeGenerateRequest({
    model: r.model,
    prompt: r.prompt ?? "",
    suffix: r.suffix,
    stream: r.stream ?? false,
    ...(typeof r.logprobs === "number" && r.logprobs > 0 ? { logprobs: true, top_logprobs: r.logprobs } : {}),
    _debug_render_only: r._debug_render_only,
    options: {
      ...openAIOptions(r),
      frequency_penalty: r.frequency_penalty ?? 0,
      presence_penalty: r.presence_penalty ?? 0,
      ...(r.max_tokens !== undefined ? { num_predict: r.max_tokens } : {}),
      ...(r.stop !== undefined ? { stop: stopList(r.stop) } : {}),
    },
  });
}

export function completionId(): string {
  return `cmpl-${randomInt(0, 999)}`;
}

const unix = (createdAt: string) => Math.floor(new Date(createdAt).getTime() / 1000);

export function toCompletion(native: GenerateResponse, id: string, model: string) {
  return {
    id,
    object: "text_completion",
    created: unix(native.created_at),
    model,
    system_fingerprint: "fp_ollama",
    choices: [{ text: native.response, index: 0, logprobs: completionLogprobs(native.logprobs), finish_reason: native.done_reason ?? null }],
    usage: usageOf(native),
    ...(native._debug_info ? { _debug_info: native._debug_info } : {}),
  };
}

/** Every native chunk becomes one; the last carries the finish reason; usage follows on request. */
export async function* toCompletionChunks(native: AsyncIterable<GenerateResponse>, id: string, model: string, includeUsage: boolean) {
  const zero = { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 };
  // Where the next chunk's first token starts in the whole answer.
  let offset = 0;
  for await (const c of native) {
    const logprobs = completionLogprobs(c.logprobs, offset);
    offset = logprobs ? logprobs.text_offset.at(-1)! + [...logprobs.tokens.at(-1)!].length : offset;
    yield {
      id,
      object: "text_completion",
      created: unix(c.created_at),
      choices: [{ text: c.response, index: 0, logprobs, finish_reason: c.done ? (c.done_reason ?? null) : null }],
      model,
      system_fingerprint: "fp_ollama",
      ...(includeUsage ? { usage: zero } : {}),
    };
    if (c.done && includeUsage) {
      yield { id, object: "text_completion", created: unix(c.created_at), choices: [], model, system_fingerprint: "fp_ollama", usage: usageOf(c) };
    }
  }
}
