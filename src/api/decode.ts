// Decodes a parsed JSON body into a typed request the way Go's encoding/json fills a struct:
// unknown fields are ignored, null means "not given", and type mismatches fail with Go's message
// (`json: cannot unmarshal number into Go struct field GenerateRequest.prompt of type string`).
// Hand-written rather than a schema library because those exact messages are part of the contract.
import { ApiError } from "./errors.js";

export type FieldSpec =
  | { kind: "string" }
  | { kind: "bool" }
  | { kind: "int"; go?: string }
  | { kind: "float" }
  | { kind: "any" }
  | { kind: "custom"; decode: (v: unknown) => unknown }
  | { kind: "array"; of: FieldSpec; go: string }
  | { kind: "map"; go: string }
  | { kind: "struct"; name: string; fields: Record<string, FieldSpec> };

export const t = {
  string: { kind: "string" } as const,
  bool: { kind: "bool" } as const,
  int: { kind: "int" } as const,
  float: { kind: "float" } as const,
  any: { kind: "any" } as const,
  map: { kind: "map", go: "map[string]interface {}" } as const,
  array: (of: FieldSpec, go: string): FieldSpec => ({ kind: "array", of, go }),
  struct: (name: string, fields: Record<string, FieldSpec>): FieldSpec => ({ kind: "struct", name, fields }),
  custom: (decode: (v: unknown) => unknown): FieldSpec => ({ kind: "custom", decode }),
};

function jsonKind(v: unknown): string {
  if (Array.isArray(v)) return "array";
  if (typeof v === "boolean") return "bool";
  return typeof v === "object" ? "object" : typeof v;
}

function goTypeName(spec: FieldSpec): string {
  switch (spec.kind) {
    case "string": return "string";
    case "bool": return "bool";
    case "int": return spec.go ?? "int";
    case "float": return "float64";
    case "array": case "map": return spec.go;
    case "struct": return `api.${spec.name}`;
    default: return "interface {}";
  }
}

function mismatch(v: unknown, spec: FieldSpec, where: string): ApiError {
  const what = typeof v === "number" && spec.kind === "int" ? `number ${v}` : jsonKind(v);
  return new ApiError(400, `json: cannot unmarshal ${what} into ${where} of type ${goTypeName(spec)}`);
}

function decodeValue(v: unknown, spec: FieldSpec, root: string, path: string): unknown {
  if (v === null || v === undefined) return undefined;
  const where = `Go struct field ${root}.${path}`;
  switch (spec.kind) {
    case "any": return v;
    case "custom": return spec.decode(v);
    case "string": if (typeof v === "string") return v; break;
    case "bool": if (typeof v === "boolean") return v; break;
    case "float": if (typeof v === "number") return v; break;
    case "int": if (typeof v === "number" && Number.isInteger(v)) return v; break;
    case "map": if (typeof v === "object" && !Array.isArray(v)) return v; break;
    case "array":
      if (Array.isArray(v)) return v.map((e) => decodeValue(e, spec.of, root, path) ?? zeroOf(spec.of));
      break;
    case "struct":
      if (typeof v === "object" && !Array.isArray(v)) return decodeFields(v as Record<string, unknown>, spec.fields, root, path);
      break;
  }
  throw mismatch(v, spec, where);
}

function zeroOf(spec: FieldSpec): unknown {
  switch (spec.kind) {
    case "string": return "";
    case "bool": return false;
    case "int": case "float": return 0;
    case "struct": return {};
    default: return null;
  }
}

function decodeFields(obj: Record<string, unknown>, fields: Record<string, FieldSpec>, root: string, prefix: string) {
  const out: Record<string, unknown> = {};
  // Go matches keys case-insensitively when there is no exact match.
  const lower = new Map(Object.keys(obj).map((k) => [k.toLowerCase(), k]));
  for (const [name, spec] of Object.entries(fields)) {
    const key = name in obj ? name : lower.get(name.toLowerCase());
    if (key === undefined) continue;
    const value = decodeValue(obj[key], spec, root, prefix ? `${prefix}.${name}` : name);
    if (value !== undefined) out[name] = value;
  }
  return out;
}

/** Decodes `body` (already parsed JSON) as the Go struct `structName` described by `fields`. */
export function decodeStruct<T>(body: unknown, structName: string, fields: Record<string, FieldSpec>): T {
  if (body === null) return {} as T;
  if (typeof body !== "object" || Array.isArray(body)) {
    throw new ApiError(400, `json: cannot unmarshal ${jsonKind(body)} into Go value of type api.${structName}`);
  }
  return decodeFields(body as Record<string, unknown>, fields, structName, "") as T;
}
