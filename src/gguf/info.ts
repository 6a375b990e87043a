// Facts the server reports about a GGUF (show, tags, config blob), computed from its header.
import { FILE_TYPE_NAMES, GgmlType, GgufValueType } from "./types.js";
import type { GgufFile, GgufKv, GgufScalar } from "./reader.js";

export function kvNumber(f: GgufFile, key: string): number | undefined {
  const v = f.metadata.get(key)?.value;
  return typeof v === "number" ? v : typeof v === "bigint" ? Number(v) : undefined;
}

export function kvString(f: GgufFile, key: string): string | undefined {
  const v = f.metadata.get(key)?.value;
  return typeof v === "string" ? v : undefined;
}

export function architecture(f: GgufFile): string {
  return kvString(f, "general.architecture") ?? "";
}

export const contextLength = (f: GgufFile) => kvNumber(f, `${architecture(f)}.context_length`);
export const embeddingLength = (f: GgufFile) => kvNumber(f, `${architecture(f)}.embedding_length`);
export const poolingType = (f: GgufFile) => kvNumber(f, `${architecture(f)}.pooling_type`);
/** llama.cpp's LLAMA_POOLING_TYPE_RANK: a reranker, whose classifier head scores a query/document pair. */
export const RANK_POOLING = 4;

/** Bytes of f16 KV cache one token of context takes: layers x (K + V width) x 2; 0 when the header does not say. */
export function kvBytesPerToken(f: GgufFile): number {
  const arch = architecture(f);
  const num = (key: string) => kvNumber(f, `${arch}.${key}`);
  const layers = num("block_count") ?? 0;
  const embd = num("embedding_length") ?? 0;
  const heads = num("attention.head_count") ?? 0;
  if (!layers || !embd || !heads) return 0;
  const kvHeads = num("attention.head_count_kv") ?? heads;
  const k = num("attention.key_length") ?? embd / heads;
  const v = num("attention.value_length") ?? embd / heads;
  return layers * kvHeads * (k + v) * 2;
}

export function chatTemplate(f: GgufFile): string | undefined {
  return kvString(f, "tokenizer.chat_template");
}

/** tokenizer.ggml.tokens[id], or "" (e.g. for the BOS/EOS text). */
export function tokenText(f: GgufFile, id: number | undefined): string {
  const tokens = f.metadata.get("tokenizer.ggml.tokens")?.value;
  if (id === undefined || !Array.isArray(tokens)) return "";
  const t = tokens[id];
  return typeof t === "string" ? t : "";
}

const elements = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

export function parameterCount(f: GgufFile): number {
  return f.tensors.reduce((n, t) => n + elements(t.shape), 0);
}

/** Go's %.{d}f for x ≥ 0: exact ties round half to even (toFixed rounds them up). */
function goFixed(x: number, d: number): string {
  const rounded = x.toFixed(d);
  const [ip, fp = ""] = x.toFixed(Math.min(100, d + 60)).split(".");
  if (!/^50*$/.test(fp.slice(d))) return rounded;
  const kept = fp.slice(0, d);
  const last = Number((d ? kept : ip!).at(-1));
  return last % 2 === 0 ? (d ? `${ip}.${kept}` : ip!) : rounded;
}

/** Ollama's format.HumanNumber (spec §7.3), e.g. 8.0B, 3.2B, 1.50M, 293K. */
export function humanNumber(n: number): string {
  if (n >= 1e9) {
    const v = n / 1e9;
    return Number.isInteger(v) ? `${goFixed(v, 0)}B` : `${goFixed(v, 1)}B`;
  }
  if (n >= 1e6) {
    const v = n / 1e6;
    return Number.isInteger(v) ? `${goFixed(v, 0)}M` : `${goFixed(v, 2)}M`;
  }
  if (n >= 1e3) return `${goFixed(n / 1e3, 0)}K`;
  return String(Math.trunc(n));
}

/** general.file_type label; without one, the ggml type holding most elements; else "unknown". */
export function fileTypeName(f: GgufFile): string {
  const ft = kvNumber(f, "general.file_type");
  const named = ft === undefined ? undefined : FILE_TYPE_NAMES[ft];
  if (named) return named;
  const byType = new Map<GgmlType, number>();
  for (const t of f.tensors) byType.set(t.type, (byType.get(t.type) ?? 0) + elements(t.shape));
  let best: GgmlType | undefined;
  for (const [type, n] of byType) if (best === undefined || n > byType.get(best)!) best = type;
  return (best !== undefined && GgmlType[best]) || "unknown";
}

export function tensorsInfo(f: GgufFile): { name: string; type: string; shape: number[] }[] {
  return f.tensors.map((t) => ({ name: t.name, type: GgmlType[t.type] ?? "unknown", shape: t.shape }));
}

/** The shortest decimal that reads back as the same float32, as Go prints a float32. */
export function float32Number(x: number): number {
  if (!Number.isFinite(x) || x === 0) return x;
  for (let p = 1; p < 9; p++) {
    const y = Number(x.toPrecision(p));
    if (Math.fround(y) === x) return y;
  }
  return Number(x.toPrecision(9));
}

function jsonScalar(v: GgufScalar, type: GgufValueType | undefined): unknown {
  if (typeof v === "bigint") return Number(v); // JSON.parse-compatible; exact only up to 2^53
  if (type === GgufValueType.FLOAT32 && typeof v === "number") return float32Number(v);
  return v;
}

function jsonValue(kv: GgufKv): unknown {
  if (!Array.isArray(kv.value)) return jsonScalar(kv.value, kv.type);
  return (kv.value as (GgufScalar | GgufKv)[]).map((x) =>
    typeof x === "object" ? jsonValue(x) : jsonScalar(x, kv.arrayType),
  );
}

const HIDDEN_KEYS = new Set(["general.name", "tokenizer.chat_template"]);

/**
 * `/api/show` model_info: every KV except general.name and tokenizer.chat_template, plus the computed
 * general.parameter_count, keys sorted. Without `verbose` non-empty arrays become null.
 */
export function modelInfo(f: GgufFile, verbose: boolean): Record<string, unknown> {
  const all = new Map<string, unknown>();
  for (const [k, kv] of f.metadata) {
    if (HIDDEN_KEYS.has(k)) continue;
    const nonEmptyArray = Array.isArray(kv.value) && kv.value.length > 0;
    all.set(k, nonEmptyArray && !verbose ? null : jsonValue(kv));
  }
  all.set("general.parameter_count", parameterCount(f));
  const out: Record<string, unknown> = {};
  for (const k of [...all.keys()].sort()) out[k] = all.get(k);
  return out;
}
