// Request types of the native API and their decoders (Go struct semantics, see decode.ts).
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

const messageSpec: FieldSpec = t.struct("Message", {
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

export interface CreateRequest {
  model?: string;
  name?: string;
  from?: string;
  files?: Record<string, string>;
  adapters?: Record<string, string>;
  template?: string;
  system?: string;
  license?: string[];
  parameters?: Record<string, unknown>;
  messages?: Message[];
  quantize?: string;
  stream?: boolean;
}

function decodeStringMap(goName: string) {
  return t.custom((v) => {
    if (typeof v !== "object" || Array.isArray(v) || v === null) {
      throw new ApiError(400, `json: cannot unmarshal ${Array.isArray(v) ? "array" : typeof v} into Go struct field CreateRequest.${goName} of type map[string]string`);
    }
    for (const value of Object.values(v)) {
      if (typeof value !== "string") {
        throw new ApiError(400, `json: cannot unmarshal ${typeof value} into Go struct field CreateRequest.${goName} of type string`);
      }
    }
    return v;
  });
}

export function decodeCreateRequest(body: unknown): CreateRequest {
  const r = decodeStruct<CreateRequest & { quantization?: string; license?: unknown }>(body, "CreateRequest", {
    model: t.string,
    name: t.string,
    from: t.string,
    files: decodeStringMap("files"),
    adapters: decodeStringMap("adapters"),
    template: t.string,
    system: t.string,
    license: t.custom((v) => {
      if (typeof v === "string") return [v];
      if (Array.isArray(v) && v.every((s) => typeof s === "string")) return v;
      throw new ApiError(400, "json: cannot unmarshal license into Go struct field CreateRequest.license of type string or []string");
    }),
    parameters: t.map,
    messages: t.array(messageSpec, "[]api.Message"),
    quantize: t.string,
    quantization: t.string,
    stream: t.bool,
  });
  if (!r.quantize && r.quantization) r.quantize = r.quantization;
  delete r.quantization;
  return r;
}

export interface ShowRequest {
  model?: string;
  name?: string;
  verbose?: boolean;
  system?: string;
  options?: Record<string, unknown>;
}

export function decodeShowRequest(body: unknown): ShowRequest {
  return decodeStruct<ShowRequest>(body, "ShowRequest", {
    model: t.string, name: t.string, verbose: t.bool, system: t.string, options: t.map,
  });
}

export interface CopyRequest { source?: string; destination?: string }

export function decodeCopyRequest(body: unknown): CopyRequest {
  return decodeStruct<CopyRequest>(body, "CopyRequest", { source: t.string, destination: t.string });
}

export interface DeleteRequest { model?: string; name?: string }

export function decodeDeleteRequest(body: unknown): DeleteRequest {
  return decodeStruct<DeleteRequest>(body, "DeleteRequest", { model: t.string, name: t.string });
}

/** `model` wins over the deprecated `name` when both are non-empty. */
export function requestedModel(r: { model?: string; name?: string }): string {
  return (r.model || r.name || "").trim();
}
