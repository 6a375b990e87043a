// Go encoding/json compatible output (spec §0.3). Blobs the server writes are hashed, so the bytes
// matter: re-creating a model must produce the same digests Ollama would.

const ESCAPES: Record<string, string> = {
  "<": "\\u003c",
  ">": "\\u003e",
  "&": "\\u0026",
  "\u2028": "\\u2028",
  "\u2029": "\\u2029",
};

function goString(s: string): string {
  // JSON.stringify matches Go for quotes, backslashes and control characters (Go ≥1.22 writes \b, \f);
  // Go additionally HTML-escapes, and writes invalid UTF-8 (lone surrogates here) as U+FFFD.
  return JSON.stringify(s)
    .replace(/[<>&\u2028\u2029]/g, (c) => ESCAPES[c]!)
    .replace(/\\ud[89a-f][0-9a-f]{2}/g, "\\ufffd");
}

function goNumber(n: number): string {
  if (!Number.isFinite(n)) throw new TypeError(`json: unsupported value: ${n}`);
  // JS and Go switch to exponent form at the same thresholds (<1e-6, >=1e21) with the same spelling.
  return Object.is(n, -0) ? "-0" : String(n);
}

/**
 * Compact Go-style JSON. Object keys keep their insertion order (Go structs) unless `sortKeys` is set;
 * `Map`s are always emitted with sorted keys (Go maps). Undefined object members are skipped;
 * Uint8Array becomes base64 like []byte.
 */
export function goJson(value: unknown, opts?: { sortKeys?: boolean }): string {
  const out: string[] = [];
  write(value, out, opts?.sortKeys ?? false);
  return out.join("");
}

function write(v: unknown, out: string[], sortKeys: boolean): void {
  if (v === null || v === undefined) return void out.push("null");
  switch (typeof v) {
    case "string":
      return void out.push(goString(v));
    case "number":
      return void out.push(goNumber(v));
    case "bigint":
      return void out.push(v.toString());
    case "boolean":
      return void out.push(v ? "true" : "false");
    case "object":
      break;
    default:
      throw new TypeError(`json: unsupported type: ${typeof v}`);
  }
  if (v instanceof Uint8Array) return void out.push(`"${Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString("base64")}"`);
  const o = v as { toJSON?: () => unknown };
  if (typeof o.toJSON === "function") return write(o.toJSON(), out, sortKeys);
  if (Array.isArray(v)) {
    out.push("[");
    v.forEach((x, i) => {
      if (i) out.push(",");
      write(x, out, sortKeys);
    });
    return void out.push("]");
  }
  let entries: [string, unknown][] =
    v instanceof Map ? [...v.entries()].map(([k, x]) => [String(k), x]) : Object.entries(v);
  if (sortKeys || v instanceof Map) entries = entries.sort(([a], [b]) => compareKeys(a, b));
  out.push("{");
  let first = true;
  for (const [k, x] of entries) {
    if (x === undefined) continue;
    if (!first) out.push(",");
    first = false;
    out.push(goString(k), ":");
    write(x, out, sortKeys);
  }
  out.push("}");
}

// Go sorts map keys by their UTF-8 bytes.
function compareKeys(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

/**
 * Recursively re-creates plain objects with sorted keys, as Go does for map[string]any. JS always
 * lists integer-like keys ("2", "10") first, so for arbitrary keys prefer goJson(v, { sortKeys: true }).
 */
export function sortKeysDeep<T>(value: T): T {
  if (Array.isArray(value)) return value.map((x) => sortKeysDeep(x)) as T;
  if (value === null || typeof value !== "object" || value instanceof Uint8Array) return value;
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return value;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(value).sort(compareKeys)) out[k] = sortKeysDeep((value as Record<string, unknown>)[k]);
  return out as T;
}
