// text/template's built-in functions (and/or live in exec.ts: they evaluate lazily).
import type { FuncDef } from "./exec.js";
import { formatValue, sprint, sprintf, sprintln } from "./fmt.js";
import { byteLength, GoList, GoMap, GoStruct, truth, typeName, type GoValue } from "./value.js";

type Kind = "bool" | "int" | "float" | "string" | "invalid" | "other";

function basicKind(v: GoValue): Kind {
  if (v === null) return "invalid";
  switch (typeof v) {
    case "boolean":
      return "bool";
    case "bigint":
      return "int";
    case "number":
      return "float";
    case "string":
      return "string";
  }
  return "other";
}

function eq(a: GoValue, ...rest: GoValue[]): boolean {
  if (rest.length === 0) throw new Error("missing argument for comparison");
  const k1 = basicKind(a);
  for (const b of rest) {
    const k2 = basicKind(b);
    let t = false;
    if (k1 !== k2) {
      if (a !== null && b !== null) throw new Error("incompatible types for comparison");
    } else if (k1 === "other") {
      if (a !== b && !(a instanceof GoStruct && b instanceof GoStruct)) {
        throw new Error(`non-comparable types ${formatValue(a)}: ${typeName(a)}, ${typeName(b)}: ${formatValue(b)}`);
      }
      t = a === b;
    } else t = a === b;
    if (t) return true;
  }
  return false;
}

function lt(a: GoValue, b: GoValue): boolean {
  const k1 = basicKind(a);
  const k2 = basicKind(b);
  if (k1 === "invalid" || k1 === "other" || k2 === "invalid" || k2 === "other") throw new Error("invalid type for comparison");
  if (k1 !== k2) throw new Error("incompatible types for comparison");
  if (k1 === "bool") throw new Error("invalid type for comparison");
  return (a as string | number | bigint) < (b as string | number | bigint);
}

function toIndex(v: GoValue, cap: number, what = "index"): number {
  if (v === null) throw new Error(`cannot index slice/array with nil`);
  if (typeof v !== "bigint") throw new Error(`cannot index slice/array with type ${typeName(v)}`);
  const x = Number(v);
  if (x < 0 || x > cap) throw new Error(`${what} out of range: ${x}`);
  return x;
}

function len(v: GoValue): GoValue {
  if (v === null) throw new Error("len of nil pointer");
  if (typeof v === "string") return BigInt(byteLength(v));
  if (v instanceof GoList) return BigInt(v.items.length);
  if (v instanceof GoMap) return BigInt(v.entries.size);
  throw new Error(`len of type ${typeName(v)}`);
}

function index(item: GoValue, ...indexes: GoValue[]): GoValue {
  if (item === null) throw new Error("index of untyped nil");
  let v: GoValue = item;
  for (const ix of indexes) {
    if (v === null) throw new Error("index of untyped nil");
    if (typeof v === "string") {
      const bytes: Buffer = Buffer.from(v, "utf8");
      const i = toIndex(ix, bytes.length - 1);
      v = BigInt(bytes[i]!);
    } else if (v instanceof GoList) {
      v = v.items[toIndex(ix, v.items.length - 1)]!;
    } else if (v instanceof GoMap) {
      if (typeof ix !== "string") throw new Error(`value has type ${typeName(ix)}; should be string`);
      v = v.entries.has(ix) ? v.entries.get(ix)! : null;
    } else throw new Error(`can't index item of type ${typeName(v)}`);
  }
  return v;
}

function slice(item: GoValue, ...indexes: GoValue[]): GoValue {
  if (item === null) throw new Error("slice of untyped nil");
  if (indexes.length > 3) throw new Error(`too many slice indexes: ${indexes.length}`);
  let n: number;
  if (typeof item === "string") {
    if (indexes.length === 3) throw new Error("cannot 3-index slice a string");
    n = byteLength(item);
  } else if (item instanceof GoList) n = item.items.length;
  else throw new Error(`can't slice item of type ${typeName(item)}`);
  const idx = [0, n];
  indexes.slice(0, 2).forEach((x, i) => (idx[i] = toIndex(x, n)));
  if (idx[0]! > idx[1]!) throw new Error(`invalid slice index: ${idx[0]} > ${idx[1]}`);
  if (typeof item === "string") return Buffer.from(item, "utf8").subarray(idx[0], idx[1]).toString("utf8");
  return new GoList(item.items.slice(idx[0], idx[1]), item.typeName);
}

/** text/template's evalArgs: one string as is, otherwise fmt.Sprint with nil shown as <no value>. */
function evalArgs(args: GoValue[]): string {
  if (args.length === 1 && typeof args[0] === "string") return args[0];
  return sprint(args.map((a) => (a === null ? "<no value>" : a)));
}

function htmlEscape(s: string): string {
  return s.replace(/[<>&'"\0]/g, (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", "'": "&#39;", '"': "&#34;", "\0": "\uFFFD" })[c]!);
}

function jsEscape(s: string): string {
  let out = "";
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === "\\") out += "\\\\";
    else if (ch === "'") out += "\\'";
    else if (ch === '"') out += '\\"';
    else if (ch === "<") out += "\\u003C";
    else if (ch === ">") out += "\\u003E";
    else if (ch === "&") out += "\\u0026";
    else if (ch === "=") out += "\\u003D";
    else if (c < 0x20 || (c >= 0x7f && c < 0xa0)) out += "\\u" + c.toString(16).toUpperCase().padStart(4, "0");
    else out += ch;
  }
  return out;
}

/** url.QueryEscape. */
function queryEscape(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => "%" + c.charCodeAt(0).toString(16).toUpperCase()).replace(/%20/g, "+");
}

export const BUILTINS = new Map<string, FuncDef>([
  ["not", { args: 1, fn: (a) => !truth(a) }],
  ["len", { args: 1, fn: len }],
  ["index", { args: 1, variadic: true, fn: index }],
  ["slice", { args: 1, variadic: true, fn: slice }],
  ["eq", { args: 1, variadic: true, fn: (a, ...r) => eq(a, ...r) }],
  ["ne", { args: 2, fn: (a, b) => !eq(a, b) }],
  ["lt", { args: 2, fn: lt }],
  ["le", { args: 2, fn: (a, b) => lt(a, b) || eq(a, b) }],
  ["gt", { args: 2, fn: (a, b) => !(lt(a, b) || eq(a, b)) }],
  ["ge", { args: 2, fn: (a, b) => !lt(a, b) }],
  ["print", { args: 0, variadic: true, fn: (...a) => sprint(a) }],
  ["printf", { args: 1, variadic: true, fn: (f, ...a) => sprintf(typeof f === "string" ? f : formatValue(f), a) }],
  ["println", { args: 0, variadic: true, fn: (...a) => sprintln(a) }],
  ["html", { args: 0, variadic: true, fn: (...a) => htmlEscape(evalArgs(a)) }],
  ["js", { args: 0, variadic: true, fn: (...a) => jsEscape(evalArgs(a)) }],
  ["urlquery", { args: 0, variadic: true, fn: (...a) => queryEscape(evalArgs(a)) }],
  [
    "call",
    {
      args: 1,
      variadic: true,
      fn: (f, ...a) => {
        if (f === null) throw new Error("call of nil");
        if (typeof f !== "function") throw new Error(`non-function of type ${typeName(f)}`);
        return f(...a);
      },
    },
  ],
]);

/** Names the parser accepts as functions: the built-ins plus and/or. */
export const BUILTIN_NAMES = ["and", "or", ...BUILTINS.keys()];
