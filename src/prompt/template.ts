// A Go text/template subset: literal text and field actions ({{ .Prompt }}, {{- .System -}}),
// comments and trim markers. It covers the default `{{ .Prompt }}` template and simple legacy
// templates. Other actions parse, and fail when executed with an error naming the action.

export type TemplateNode =
  | { kind: "text"; text: string }
  | { kind: "field"; name: string }
  | { kind: "unsupported"; action: string; line: number };

export class TemplateError extends Error {}

export interface ParsedTemplate {
  source: string;
  nodes: TemplateNode[];
  /** Field names used, lower-cased (Ollama's Vars()). */
  vars: Set<string>;
}

export function parseTemplate(source: string): ParsedTemplate {
  const nodes: TemplateNode[] = [];
  let i = 0;
  let trimNext = false;
  while (i < source.length) {
    const open = source.indexOf("{{", i);
    let text = open < 0 ? source.slice(i) : source.slice(i, open);
    if (trimNext) text = text.replace(/^\s+/, "");
    trimNext = false;
    if (open < 0) {
      if (text) nodes.push({ kind: "text", text });
      break;
    }
    const close = source.indexOf("}}", open + 2);
    if (close < 0) throw new TemplateError(`template: :${lineOf(source, open)}: unclosed action`);
    let inner = source.slice(open + 2, close);
    if (inner.startsWith("- ") || inner === "-") {
      text = text.replace(/\s+$/, "");
      inner = inner.slice(1);
    }
    if (inner.endsWith(" -")) {
      trimNext = true;
      inner = inner.slice(0, -1);
    }
    if (text) nodes.push({ kind: "text", text });
    const action = inner.trim();
    if (!(action.startsWith("/*") && action.endsWith("*/"))) {
      const field = /^\.([A-Za-z_][A-Za-z0-9_]*)$/.exec(action);
      nodes.push(field ? { kind: "field", name: field[1]! } : { kind: "unsupported", action, line: lineOf(source, open) });
    }
    i = close + 2;
  }
  const vars = new Set(nodes.flatMap((n) => (n.kind === "field" ? [n.name.toLowerCase()] : [])));
  // Templates that never mention the response get it appended, so a turn's answer follows its prompt.
  if (!vars.has("messages") && !vars.has("response")) {
    nodes.push({ kind: "field", name: "Response" });
    vars.add("response");
  }
  return { source, nodes, vars };
}

function lineOf(s: string, index: number): number {
  return s.slice(0, index).split("\n").length;
}

/** Executes nodes over `data`; a missing key prints "<no value>" as Go's missingkey=zero does for maps. */
export function execute(nodes: TemplateNode[], data: Record<string, unknown>): string {
  let out = "";
  for (const n of nodes) {
    if (n.kind === "text") out += n.text;
    else if (n.kind === "field") out += n.name in data ? String(data[n.name] ?? "") : "<no value>";
    else throw new TemplateError(`template: :${n.line}: executing: unsupported action {{ ${n.action} }}`);
  }
  return out;
}

/** The template cut right after its first `.Response` action (legacy mode's final turn). */
export function truncatedAtResponse(t: ParsedTemplate): TemplateNode[] {
  const at = t.nodes.findIndex((n) => n.kind === "field" && n.name === "Response");
  return at < 0 ? t.nodes : t.nodes.slice(0, at + 1);
}
