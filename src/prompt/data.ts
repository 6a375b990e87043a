// The values Ollama's templates see (.Messages, .Tools, tool calls, properties), as Go values with
// Ollama's printing: tools, functions, arguments and property maps print as Go-JSON.
import type { Message, ToolCall } from "../api/inference.js";
import { goJson } from "../store/gojson.js";
import { fromJson, GoList, GoMap, GoStruct, toJsonValue, type GoValue } from "./gotemplate/index.js";

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);
const str = (v: unknown) => (typeof v === "string" ? v : "");

/** JSON decoded into Go's `any`: objects become maps, which marshal with sorted keys. */
function anyJson(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(anyJson);
  if (isObj(v)) return new Map(Object.entries(v).map(([k, x]) => [k, anyJson(x)]));
  return v;
}

const jsonText = (v: GoValue) => goJson(toJsonValue(v));

function stringList(v: unknown, typeName = "[]string"): GoList {
  const items = Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : [];
  return new GoList(items, typeName, !Array.isArray(v));
}

/** api.PropertyType: one type prints (and marshals) as a plain string. */
function propertyType(v: unknown): GoList {
  const types = typeof v === "string" ? [v] : Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : [];
  const nil = types.length === 0;
  return new GoList(types, "api.PropertyType", nil, {
    str: () => (types.length === 0 ? "" : types.length === 1 ? types[0]! : `[${types.join(" ")}]`),
    json: () => (nil ? undefined : types.length === 1 ? types[0] : types),
  });
}

/** api.ToolProperty: fields in Go's order; JSON keys anyOf,type,items,description,enum,properties,required. */
function toolProperty(p: unknown): GoStruct {
  const o = isObj(p) ? p : {};
  const anyOf = Array.isArray(o.anyOf) ? o.anyOf.map(toolProperty) : [];
  const nested = isObj(o.properties) ? o.properties : undefined;
  const props = new GoMap(
    new Map(Object.entries(nested ?? {}).map(([k, x]) => [k, toolProperty(x)])),
    "*api.ToolPropertiesMap",
    !nested,
  );
  // Nested property maps are ordered maps in Ollama: insertion order.
  const propsJson = () => (nested ? Object.fromEntries([...props.entries].map(([k, x]) => [k, toJsonValue(x)])) : undefined);
  props.str = () => goJson(propsJson() ?? null);
  props.json = propsJson;
  const type = propertyType(o.type);
  const enumList = Array.isArray(o.enum) ? o.enum : undefined;
  const fields = new Map<string, GoValue>([
    ["AnyOf", new GoList(anyOf, "[]api.ToolProperty", anyOf.length === 0)],
    ["Type", type],
    ["Items", fromJson(o.items)],
    ["Description", str(o.description)],
    ["Enum", enumList ? fromJson(enumList) : new GoList([], "[]interface {}", true)],
    ["Properties", props],
    ["Required", stringList(o.required)],
  ]);
  const json = () => ({
    anyOf: anyOf.length ? anyOf.map((a) => a.json!()) : undefined,
    type: type.json!(),
    items: o.items == null ? undefined : anyJson(o.items),
    description: str(o.description) || undefined,
    enum: enumList?.length ? anyJson(enumList) : undefined,
    properties: propsJson(),
    required: Array.isArray(o.required) && o.required.length ? o.required : undefined,
  });
  return new GoStruct("api.ToolProperty", fields, false, { json });
}

function toolFunction(f: Obj): GoStruct {
  const params = isObj(f.parameters) ? f.parameters : {};
  const rawProps = isObj(params.properties) ? params.properties : undefined;
  const properties = new GoMap(
    new Map(Object.entries(rawProps ?? {}).map(([k, x]) => [k, toolProperty(x)])),
    "template.templateProperties",
    !rawProps,
  );
  properties.json = () => (rawProps ? toJsonValue(new GoMap(properties.entries)) : null);
  properties.str = () => (rawProps ? jsonText(properties) : "{}");
  const parametersJson = () => ({
    type: str(params.type),
    $defs: params.$defs == null ? undefined : anyJson(params.$defs),
    items: params.items == null ? undefined : anyJson(params.items),
    required: Array.isArray(params.required) && params.required.length ? params.required : undefined,
    properties: properties.json!(),
  });
  const parameters = new GoStruct(
    "template.templateToolFunctionParameters",
    new Map<string, GoValue>([
      ["Type", str(params.type)],
      ["Defs", fromJson(params.$defs)],
      ["Items", fromJson(params.items)],
      ["Required", stringList(params.required)],
      ["Properties", properties],
    ]),
    false,
    { json: parametersJson, str: () => goJson(parametersJson()) },
  );
  const json = () => ({ name: str(f.name), description: str(f.description), parameters: parametersJson() });
  // Ollama's released templates print {{ .Function }} as JSON (Qwen relies on it).
  return new GoStruct(
    "template.templateToolFunction",
    new Map<string, GoValue>([["Name", str(f.name)], ["Description", str(f.description)], ["Parameters", parameters]]),
    false,
    { json, str: () => goJson(json()) },
  );
}

function tool(t: unknown): GoStruct {
  const o = isObj(t) ? t : {};
  const fn = toolFunction(isObj(o.function) ? o.function : {});
  const json = () => ({ type: str(o.type), items: o.items == null ? undefined : anyJson(o.items), function: fn.json!() });
  return new GoStruct(
    "template.templateTool",
    new Map<string, GoValue>([["Type", str(o.type)], ["Items", fromJson(o.items)], ["Function", fn]]),
    false,
    { json, str: () => goJson(json()) },
  );
}

/** .Tools: nil without tools; prints as a JSON array. */
export function toolsValue(tools: unknown[] | undefined): GoList {
  const items = (tools ?? []).map(tool);
  const nil = tools === undefined;
  const json = () => (nil ? null : items.map((t) => t.json!()));
  return new GoList(items, "template.templateTools", nil, { json, str: () => goJson(json()) });
}

/** Tool-call arguments: a Go map, so JSON with sorted keys, "{}" when empty. */
function argumentsValue(args: unknown): GoMap {
  const o = isObj(args) ? args : undefined;
  const m = new GoMap(new Map(Object.entries(o ?? {}).map(([k, v]) => [k, fromJson(v)])), "template.templateArgs", !o);
  m.json = () => (o ? anyJson(o) : null);
  m.str = () => (o ? goJson(anyJson(o)) : "{}");
  return m;
}

function toolCallValue(c: ToolCall): GoStruct {
  const f = isObj(c?.function) ? c.function : ({} as Obj);
  const index = typeof f.index === "number" ? BigInt(Math.trunc(f.index)) : 0n;
  const fn = new GoStruct(
    "template.templateToolCallFunction",
    new Map<string, GoValue>([["Index", index], ["Name", str(f.name)], ["Arguments", argumentsValue(f.arguments)]]),
  );
  return new GoStruct("template.templateToolCall", new Map<string, GoValue>([["ID", str(c?.id)], ["Function", fn]]));
}

/** One entry of .Messages (Ollama's *templateMessage). */
export function messageValue(m: Message): GoStruct {
  const calls = Array.isArray(m.tool_calls) && m.tool_calls.length ? m.tool_calls : undefined;
  return new GoStruct(
    "template.templateMessage",
    new Map<string, GoValue>([
      ["Role", m.role],
      ["Content", m.content ?? ""],
      ["Thinking", m.thinking ?? ""],
      ["Images", new GoList(m.images ?? [], "[]api.ImageData", !m.images?.length)],
      ["ToolCalls", new GoList((calls ?? []).map(toolCallValue), "[]template.templateToolCall", !calls)],
      ["ToolName", m.tool_name ?? ""],
      ["ToolCallID", m.tool_call_id ?? ""],
    ]),
    true,
  );
}

/** The root of a template execution: a map[string]any, where a missing key prints <no value>. */
export function rootValue(values: Record<string, GoValue>): GoMap {
  return new GoMap(new Map(Object.entries(values)));
}
