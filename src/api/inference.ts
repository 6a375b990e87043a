// The inference endpoints (/api/generate, /api/chat): request types, their decoders (Go struct
// semantics, see decode.ts), and response types (fields in Go's order, which is the output order).
import { decodeStruct, t, type FieldSpec } from "./decode.js";
import { decodeKeepAlive, type KeepAlive } from "./duration.js";
import { ApiError } from "./errors.js";

export type Think = boolean | "low" | "medium" | "high" | "max";

function decodeThink(v: unknown): Think {
  const levels = '("high", "medium", "low", "max", true, or false)';
  if (typeof v === "boolean") return v;
  if (typeof v === "string") {
    if (v === "low" || v === "medium" || v === "high" || v === "max") return v;
    throw new ApiError(400, `invalid think value: "${v}" (must be "high", "medium", "low", "max", true, or false)`);
  }
  throw new ApiError(400, `think must be a boolean or string ${levels}`);
}

/** `format`: "json", a JSON schema object, or unset (null / ""). */
export type Format = "json" | Record<string, unknown>;

function decodeFormat(v: unknown): Format | undefined {
  if (v === "") return undefined;
  if (v === "json") return "json";
  if (typeof v === "object" && v !== null && !Array.isArray(v)) return v as Record<string, unknown>;
  throw new ApiError(500, `invalid format: ${JSON.stringify(JSON.stringify(v))}; expected "json" or a valid JSON Schema object`);
}

const keepAlive = t.custom(decodeKeepAlive);
const think = t.custom(decodeThink);
const format = t.custom(decodeFormat);

export interface ToolCall {
  id?: string;
  function: { index?: number; name: string; arguments: Record<string, unknown> };
}

export interface Message {
  role: string;
  content: string;
  thinking?: string;
  images?: string[];
  tool_calls?: ToolCall[];
  tool_name?: string;
  tool_call_id?: string;
}

function decodeImage(v: unknown): string {
  if (typeof v !== "string") throw new ApiError(400, "json: cannot unmarshal into Go value of type api.ImageData");
  const clean = v.replace(/[\r\n]/g, "");
  const bad = /[^A-Za-z0-9+/=]/.exec(clean);
  if (bad) throw new ApiError(400, `illegal base64 data at input byte ${bad.index}`);
  return clean;
}

export const messageSpec: FieldSpec = t.struct("Message", {
  role: t.string,
  content: t.string,
  thinking: t.string,
  images: t.array(t.custom(decodeImage), "[]api.ImageData"),
  tool_calls: t.array(t.any, "[]api.ToolCall"),
  tool_name: t.string,
  tool_call_id: t.string,
});

const sharedInference = {
  model: t.string,
  stream: t.bool,
  format,
  keep_alive: keepAlive,
  options: t.map,
  think,
  truncate: t.bool,
  shift: t.bool,
  logprobs: t.bool,
  top_logprobs: t.int,
  _debug_render_only: t.bool,
};

export interface InferenceFields {
  model?: string;
  stream?: boolean;
  format?: Format;
  keep_alive?: KeepAlive;
  options?: Record<string, unknown>;
  think?: Think;
  truncate?: boolean;
  shift?: boolean;
  logprobs?: boolean;
  top_logprobs?: number;
  _debug_render_only?: boolean;
}

export interface GenerateRequest extends InferenceFields {
  prompt?: string;
  suffix?: string;
  system?: string;
  template?: string;
  context?: number[];
  raw?: boolean;
  images?: string[];
}

export interface ChatRequest extends InferenceFields {
  messages?: Message[];
  tools?: unknown[];
}

function checkTopLogprobs<T extends InferenceFields>(r: T): T {
  if (r.top_logprobs !== undefined && (r.top_logprobs < 0 || r.top_logprobs > 20)) {
    throw new ApiError(400, "top_logprobs must be between 0 and 20");
  }
  return r;
}

export function decodeGenerateRequest(body: unknown): GenerateRequest {
  return checkTopLogprobs(decodeStruct<GenerateRequest>(body, "GenerateRequest", {
    ...sharedInference,
    prompt: t.string,
    suffix: t.string,
    system: t.string,
    template: t.string,
    context: t.array(t.int, "[]int"),
    raw: t.bool,
    images: t.array(t.custom(decodeImage), "[]api.ImageData"),
  }));
}

export function decodeChatRequest(body: unknown): ChatRequest {
  return checkTopLogprobs(decodeStruct<ChatRequest>(body, "ChatRequest", {
    ...sharedInference,
    messages: t.array(messageSpec, "[]api.Message"),
    tools: t.array(t.any, "api.Tools"),
  }));
}

/** Counts and durations (nanoseconds) of the final chunk; zero values are omitted. */
export interface Metrics {
  total_duration?: number;
  load_duration?: number;
  prompt_eval_count?: number;
  prompt_eval_duration?: number;
  eval_count?: number;
  eval_duration?: number;
}

export type DoneReason = "stop" | "length" | "load" | "unload";

export interface DebugInfo {
  rendered_template: string;
  image_count: number;
}

/** One alternative at a position: its text, natural-log probability and UTF-8 bytes (omitted when empty). */
export interface TokenLogprob {
  token: string;
  logprob: number;
  bytes?: number[];
}

/** A generated token's log probability, with the `top_logprobs` most likely tokens when asked for. */
export interface Logprob extends TokenLogprob {
  top_logprobs?: TokenLogprob[];
}

export interface GenerateResponse extends Metrics {
  model: string;
  created_at: string;
  response: string;
  thinking?: string;
  done: boolean;
  done_reason?: DoneReason;
  context?: number[];
  _debug_info?: DebugInfo;
  logprobs?: Logprob[];
}

export interface ChatResponse extends Metrics {
  model: string;
  created_at: string;
  message: Message;
  done: boolean;
  done_reason?: DoneReason;
  _debug_info?: DebugInfo;
  logprobs?: Logprob[];
}
