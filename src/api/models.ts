// Model management endpoints (/api/create, show, copy, delete, tags, ps): request types, their
// decoders, and response types.
import { decodeStruct, t } from "./decode.js";
import { ApiError } from "./errors.js";
import { messageSpec, type Message } from "./inference.js";

export interface CreateRequest {
  model?: string;
  name?: string;
  from?: string;
  files?: Record<string, string>;
  adapters?: Record<string, string>;
  /** A draft model for speculative decoding (GGUF blobs). */
  draft_files?: Record<string, string>;
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
    draft_files: decodeStringMap("draft_files"),
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

export interface ProgressResponse {
  status: string;
  digest?: string;
  total?: number;
  completed?: number;
}

export interface ModelDetails {
  parent_model: string;
  format: string;
  family: string;
  families: string[] | null;
  parameter_size: string;
  quantization_level: string;
}

export interface ListModel {
  name: string;
  model: string;
  modified_at: string;
  size: number;
  digest: string;
  details: ModelDetails;
  capabilities?: string[];
}

export interface ShowResponse {
  license?: string;
  modelfile?: string;
  parameters?: string;
  template?: string;
  system?: string;
  details: ModelDetails;
  messages?: Message[];
  model_info: Record<string, unknown>;
  /** The first projector's header, as model_info. */
  projector_info?: Record<string, unknown>;
  tensors?: { name: string; type: string; shape: number[] }[];
  capabilities?: string[];
  modified_at: string;
}

export interface RunningModel {
  name: string;
  model: string;
  size: number;
  digest: string;
  details: ModelDetails;
  expires_at: string;
  size_vram: number;
  context_length: number;
}
