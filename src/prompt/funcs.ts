// The functions Ollama adds to its templates: json, currentDate, yesterdayDate, toTypeScriptType.
import { goJson } from "../store/gojson.js";
import { GoList, GoStruct, toJsonValue, type GoValue } from "./gotemplate/index.js";
import type { FuncDef } from "./gotemplate/index.js";

function localDate(offsetDays: number): string {
  const d = new Date();
  d.setDate(d.getDate() + offsetDays);
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`;
}

const TS_TYPES: Record<string, string> = {
  string: "string", number: "number", integer: "number", boolean: "boolean", array: "any[]",
  object: "Record<string, any>", null: "null",
};

/** api.ToolProperty.ToTypeScriptType: anyOf alternatives or the types, joined by " | ". */
function tsType(v: GoValue): string {
  if (!(v instanceof GoStruct) || v.typeName !== "api.ToolProperty") return "any";
  const anyOf = v.fields.get("AnyOf");
  if (anyOf instanceof GoList && anyOf.items.length > 0) return anyOf.items.map(tsType).join(" | ");
  const type = v.fields.get("Type");
  const types = type instanceof GoList ? (type.items as string[]) : [];
  if (types.length === 0) return "any";
  return types.map((t) => TS_TYPES[t] ?? "any").join(" | ");
}

export const OLLAMA_FUNCS = new Map<string, FuncDef>([
  ["json", { args: 1, fn: (v) => goJson(toJsonValue(v)) }],
  // Any format argument is accepted and ignored, as in Ollama.
  ["currentDate", { args: 0, variadic: true, fn: () => localDate(0) }],
  ["yesterdayDate", { args: 0, variadic: true, fn: () => localDate(-1) }],
  ["toTypeScriptType", { args: 1, fn: tsType }],
]);
