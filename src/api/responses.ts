// The OpenAI Responses wire contract (POST /v1/responses): the request as corral reads it, with Go's
// struct semantics for the plain fields (decode.ts) and Ollama's messages for malformed input items,
// and the shapes of the answer (the response object, its output items and usage).
import { decodeStruct, t, type FieldSpec } from "./decode.js";
import { badRequest } from "./errors.js";

export type ResponsesContent =
  | { type: "input_text"; text: string }
  | { type: "output_text"; text: string }
  | { type: "input_image"; image_url?: string; file_id?: string; detail?: string }
  | { type: "input_file"; file_data?: string; file_id?: string; file_url?: string; filename?: string };

export type ResponsesInputItem =
  | { type: "message"; role: string; content: ResponsesContent[] }
  | { type: "function_call"; id?: string; call_id: string; name: string; arguments: string }
  | { type: "function_call_output"; call_id: string; output: string | ResponsesContent[] }
  | { type: "reasoning"; encrypted_content?: string }
  | { type: "web_search_call" };

export interface ResponsesTool {
  type?: string;
  name?: string;
  description?: string;
  strict?: boolean;
  parameters?: Record<string, unknown>;
  /** A `namespace` tool's member tools. */
  tools?: ResponsesTool[];
}

export interface ResponsesTextFormat {
  type: string;
  name?: string;
  schema?: Record<string, unknown>;
  strict?: boolean;
}

export interface ResponsesRequest {
  model?: string;
  /** A string (one user message) or input items. */
  input?: string | ResponsesInputItem[];
  instructions?: string;
  tools?: ResponsesTool[];
  stream?: boolean;
  temperature?: number;
  top_p?: number;
  max_output_tokens?: number;
  reasoning?: { effort?: string; summary?: string; generate_summary?: string };
  text?: { format?: ResponsesTextFormat };
  truncation?: string;
  store?: boolean;
  background?: boolean;
  previous_response_id?: string;
  conversation?: unknown;
  _debug_render_only?: boolean;
}

const kind = (v: unknown) => (Array.isArray(v) ? "array" : v === null ? "null" : typeof v === "boolean" ? "bool" : typeof v);
const str = (v: unknown) => (typeof v === "string" ? v : "");

function contentPart(raw: unknown, where: string): ResponsesContent {
  const p = (raw ?? {}) as Record<string, unknown>;
  switch (p.type) {
    case "input_text":
    case "output_text":
      return { type: p.type, text: str(p.text) };
    case "input_image":
      return { type: "input_image", image_url: str(p.image_url), file_id: str(p.file_id), detail: str(p.detail) };
    case "input_file":
      return { type: "input_file", file_data: str(p.file_data), file_id: str(p.file_id), file_url: str(p.file_url), filename: str(p.filename) };
  }
  throw badRequest(`${where}: unknown content type: ${str(p.type)}`);
}

/** A string is shorthand for one text part. */
function contentParts(v: unknown, where: string, field: string): ResponsesContent[] {
  if (v == null) return [];
  if (typeof v === "string") return [{ type: "input_text", text: v }];
  if (!Array.isArray(v)) {
    throw badRequest(`${where}: ${field} must be a string or array: json: cannot unmarshal ${kind(v)} into Go value of type []json.RawMessage`);
  }
  return v.map((p, i) => contentPart(p, `${where}: ${field}[${i}]`));
}

function inputItem(raw: unknown, i: number): ResponsesInputItem {
  const where = `input[${i}]`;
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw badRequest(`${where}: json: cannot unmarshal ${kind(raw)} into Go value of type struct { Type string; Role string }`);
  }
  const o = raw as Record<string, unknown>;
  // {"role": ..., "content": ...} without a type is a message.
  const type = str(o.type) || (str(o.role) ? "message" : "");
  switch (type) {
    case "message":
      return { type, role: str(o.role), content: contentParts(o.content, where, "content") };
    case "function_call":
      return { type, id: str(o.id) || undefined, call_id: str(o.call_id), name: str(o.name), arguments: str(o.arguments) };
    case "function_call_output":
      return { type, call_id: str(o.call_id), output: typeof o.output === "string" ? o.output : contentParts(o.output, where, "output") };
    case "reasoning":
      // Thinking comes back as encrypted_content (corral writes it there as plain text), else as its summary.
      return {
        type,
        encrypted_content:
          str(o.encrypted_content) ||
          (Array.isArray(o.summary) ? o.summary.map((s) => str((s as { text?: unknown } | null)?.text)).join("") : "") ||
          undefined,
      };
    case "web_search_call":
      return { type };
    case "":
      throw badRequest(`${where}: input item missing required 'type' field`);
  }
  throw badRequest(`${where}: unknown input item type: ${JSON.stringify(type)}`);
}

function decodeInput(v: unknown): string | ResponsesInputItem[] {
  if (typeof v === "string") return v;
  if (!Array.isArray(v)) {
    throw badRequest(`input must be a string or array: json: cannot unmarshal ${kind(v)} into Go value of type []json.RawMessage`);
  }
  return v.map(inputItem);
}

const toolFields: Record<string, FieldSpec> = {
  type: t.string,
  name: t.string,
  description: t.string,
  strict: t.bool,
  parameters: t.map,
};
const toolSpec: FieldSpec = t.struct("ResponsesTool", {
  ...toolFields,
  // One level of namespace nesting is what clients send.
  tools: t.array(t.struct("ResponsesTool", toolFields), "[]openai.ResponsesTool"),
});

export function decodeResponsesRequest(body: unknown): ResponsesRequest {
  return decodeStruct<ResponsesRequest>(body, "ResponsesRequest", {
    model: t.string,
    input: t.custom(decodeInput),
    instructions: t.string,
    tools: t.array(toolSpec, "[]openai.ResponsesTool"),
    stream: t.bool,
    temperature: t.float,
    top_p: t.float,
    max_output_tokens: t.int,
    reasoning: t.struct("ResponsesReasoning", { effort: t.string, summary: t.string, generate_summary: t.string }),
    text: t.struct("ResponsesText", {
      format: t.struct("ResponsesTextFormat", { type: t.string, name: t.string, schema: t.map, strict: t.bool }),
    }),
    truncation: t.string,
    store: t.bool,
    background: t.bool,
    previous_response_id: t.string,
    conversation: t.any,
    _debug_render_only: t.bool,
  });
}

// The answer.

export interface OutputText {
  type: "output_text";
  text: string;
  annotations: unknown[];
  logprobs: unknown[];
}

export type ResponsesOutputItem =
  | { id: string; type: "message"; status: string; role: "assistant"; content: OutputText[] }
  | { id: string; type: "function_call"; status: string; call_id: string; name: string; arguments: string }
  | { id: string; type: "reasoning"; summary: { type: "summary_text"; text: string }[]; encrypted_content?: string };

export interface ResponsesUsage {
  input_tokens: number;
  output_tokens: number;
  total_tokens: number;
  input_tokens_details: { cached_tokens: number };
  output_tokens_details: { reasoning_tokens: number };
}

export function responsesUsage(m: { prompt_eval_count?: number; eval_count?: number }): ResponsesUsage {
  const input = m.prompt_eval_count ?? 0;
  const output = m.eval_count ?? 0;
  return {
    input_tokens: input,
    output_tokens: output,
    total_tokens: input + output,
    input_tokens_details: { cached_tokens: 0 },
    output_tokens_details: { reasoning_tokens: 0 },
  };
}
