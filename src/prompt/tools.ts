// Tool-call extraction from streamed model output (Ollama's generic tools parser, spec §11.4):
// text before the template's tool-call tag is content; after it, each tool name from the request
// followed by a balanced JSON object becomes a call.
import { randomInt } from "node:crypto";
import type { ToolCall } from "../api/inference.js";
import { overlap } from "./thinking.js";

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

const ID_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789";

/** Ollama's tool-call id: "call_" and 8 characters from [a-z0-9]. */
export function toolCallId(): string {
  let s = "call_";
  for (let i = 0; i < 8; i++) s += ID_CHARS[randomInt(ID_CHARS.length)];
  return s;
}

/** The names of the request's tools. */
export function toolNames(tools: unknown[]): string[] {
  return tools.flatMap((t) => (isObj(t) && isObj(t.function) && typeof t.function.name === "string" ? [t.function.name] : []));
}

/** Where the first tool name occurs (earliest; longest at a tie); undefined while a name may be cut off at the end. */
function findTool(names: string[], buf: string): { name: string; end: number } | undefined {
  const longest = Math.max(0, ...names.map((n) => n.length));
  for (let i = 1; i <= Math.min(buf.length, longest); i++) {
    const tail = buf.slice(buf.length - i);
    if (names.some((n) => tail.length < n.length && n.startsWith(tail))) return undefined;
  }
  let best: { name: string; start: number; end: number } | undefined;
  for (const name of names) {
    if (!name) continue;
    const pos = buf.indexOf(name);
    if (pos < 0) continue;
    if (best && (pos > best.start || (pos === best.start && name.length <= best.name.length))) continue;
    best = { name, start: pos, end: pos + name.length };
  }
  return best && { name: best.name, end: best.end };
}

/** A map value, or a JSON string holding one. */
function mapOf(v: unknown): Obj | undefined {
  if (isObj(v)) return v;
  if (typeof v === "string") {
    try {
      const p: unknown = JSON.parse(v);
      if (isObj(p)) return p;
    } catch {
      // not JSON
    }
  }
  return undefined;
}

/** Arguments inside a call object: {name, arguments|parameters}, {<tool>: args}, or a nested object that has them. */
function argumentsIn(obj: Obj, tool: string): Obj | undefined {
  if ("name" in obj) return mapOf(obj.arguments) ?? mapOf(obj.parameters) ?? {};
  const keyed = mapOf(obj[tool]);
  if (keyed) return keyed;
  for (const v of Object.values(obj)) {
    for (const child of Array.isArray(v) ? v : [v]) {
      if (isObj(child)) {
        const found = argumentsIn(child, tool);
        if (found) return found;
      }
    }
  }
  return undefined;
}

/** The characters of `buf` that stand outside JSON strings, with their positions. */
function* outsideStrings(buf: string): Generator<[number, string]> {
  let inString = false;
  let escaped = false;
  for (let i = 0; i < buf.length; i++) {
    const c = buf[i]!;
    if (escaped) escaped = false;
    else if (c === "\\") escaped = true;
    else if (c === '"') inString = !inString;
    else if (!inString) yield [i, c];
  }
}

/** The first balanced JSON object in `buf` that parses: its arguments for `tool` and the index after it. */
function findArguments(tool: string, buf: string): { args: Obj; end: number } | undefined {
  let start = -1;
  let depth = 0;
  for (const [i, c] of outsideStrings(buf)) {
    if (c === "{") {
      if (depth === 0) start = i;
      depth++;
    } else if (c === "}") {
      depth--;
      if (depth === 0 && start >= 0) {
        let data: unknown;
        try {
          data = JSON.parse(buf.slice(start, i + 1));
        } catch {
          start = -1;
          continue;
        }
        if (!isObj(data)) {
          start = -1;
          continue;
        }
        return { args: argumentsIn(data, tool) ?? data, end: i + 1 };
      }
      if (depth < 0) depth = 0;
    }
  }
  return undefined;
}

/** For `{` and `[` tags: whether the buffer holds a balanced bracket group (then it was not a call). */
function balanced(buf: string, open: string, close: string): boolean {
  let count = 0;
  for (const [, c] of outsideStrings(buf)) {
    if (c === open) count++;
    else if (c === close && --count === 0) return true;
  }
  return false;
}

export class ToolCallParser {
  private state: "looking" | "calling" | "done" = "looking";
  private buf = "";
  private n = 0;

  constructor(
    readonly tag: string,
    private readonly names: string[],
  ) {}

  private get bracketTag() {
    return this.tag === "{" || this.tag === "[";
  }

  add(text: string): { calls: ToolCall[]; content: string } {
    if (this.state === "done") return { calls: [], content: text };
    this.buf += text;
    let content = "";
    if (this.state === "looking") {
      const at = this.buf.indexOf(this.tag);
      const found = at >= 0;
      const cut = found ? at : this.buf.length - overlap(this.buf, this.tag);
      content = this.buf.slice(0, cut);
      this.buf = this.buf.slice(cut);
      // With a bare `{`/`[` tag, only output that starts with it can be a call.
      if (this.bracketTag && content.trim() !== "") {
        this.state = "done";
        const all = content + this.buf;
        this.buf = "";
        return { calls: [], content: all };
      }
      if (!found) return { calls: [], content };
      this.state = "calling";
    }
    const calls: ToolCall[] = [];
    for (;;) {
      const tool = findTool(this.names, this.buf);
      if (!tool) break;
      const found = findArguments(tool.name, this.buf);
      if (!found) break;
      calls.push({ id: toolCallId(), function: { index: this.n++, name: tool.name, arguments: found.args } });
      this.buf = this.buf.slice(Math.max(tool.end, found.end));
    }
    if (this.bracketTag && balanced(this.buf, this.tag, this.tag === "{" ? "}" : "]")) {
      this.state = "done";
      content += this.buf;
      this.buf = "";
    }
    return { calls, content };
  }

  /** At the end: held-back text is content only for `{`/`[` tags when no call was found. */
  finish(): string {
    const rest = this.buf;
    this.buf = "";
    if (this.n > 0) return "";
    if (this.state === "looking" || this.bracketTag) return rest;
    return "";
  }
}
