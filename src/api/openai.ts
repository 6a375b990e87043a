// The OpenAI-compatible wire contract (/v1/*): the request fields corral reads, the error shape, and
// the reasoning-effort vocabulary. Requests are checked by the translators in server/openai/.
import { ApiError } from "./errors.js";
import type { Think } from "./inference.js";

export interface OpenAIErrorBody {
  error: { message: string; type: string; param: null; code: null };
}

/** 400 -> invalid_request_error, 404 -> not_found_error, everything else api_error (the status is kept). */
export function openAIError(status: number, message: string): OpenAIErrorBody {
  const type = status === 400 ? "invalid_request_error" : status === 404 ? "not_found_error" : "api_error";
  return { error: { message, type, param: null, code: null } };
}

export interface OpenAIMessage {
  role?: string;
  content?: string | OpenAIContentPart[] | null;
  name?: string;
  tool_call_id?: string;
  tool_calls?: { id?: string; type?: string; function?: { name?: string; arguments?: string } }[];
  reasoning?: string;
}

export type OpenAIContentPart =
  | { type: "text"; text?: string }
  | { type: "image_url"; image_url?: string | { url?: string } }
  | { type: "input_audio"; input_audio?: { data?: string } }
  | { type: string };

export interface OpenAIChatRequest {
  model?: string;
  messages?: OpenAIMessage[];
  stream?: boolean;
  stream_options?: { include_usage?: boolean };
  max_tokens?: number;
  max_completion_tokens?: number;
  temperature?: number;
  top_p?: number;
  seed?: number;
  frequency_penalty?: number;
  presence_penalty?: number;
  stop?: string | string[];
  response_format?: { type?: string; json_schema?: { schema?: Record<string, unknown> } };
  tools?: unknown[];
  reasoning_effort?: string;
  reasoning?: { effort?: string };
  logprobs?: boolean;
  top_logprobs?: number;
  _debug_render_only?: boolean;
}

export interface OpenAICompletionRequest {
  model?: string;
  prompt?: unknown;
  suffix?: string;
  max_tokens?: number;
  temperature?: number;
  top_p?: number;
  frequency_penalty?: number;
  presence_penalty?: number;
  seed?: number;
  stop?: unknown;
  stream?: boolean;
  stream_options?: { include_usage?: boolean };
  /** Legacy: how many alternatives to report per token; n > 0 turns log probabilities on. */
  logprobs?: number;
  _debug_render_only?: boolean;
}

export interface OpenAIEmbeddingRequest {
  model?: string;
  input?: unknown;
  dimensions?: number;
  encoding_format?: string;
}

/** `reasoning_effort` -> Ollama's `think`. */
export function thinkFromEffort(effort: string | undefined): Think | undefined {
  if (effort === undefined) return undefined;
  switch (effort) {
    case "none": return false;
    case "minimal": return "low";
    case "low": case "medium": case "high": case "max": return effort;
    case "xhigh": case "ultra": return "max";
  }
  throw new ApiError(
    400,
    `invalid reasoning value: "${effort}" (must be "minimal", "low", "medium", "high", "xhigh", "ultra", "max", or "none")`,
  );
}

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

export function usageOf(m: { prompt_eval_count?: number; eval_count?: number }): Usage {
  const p = m.prompt_eval_count ?? 0;
  const c = m.eval_count ?? 0;
  return { prompt_tokens: p, completion_tokens: c, total_tokens: p + c };
}
