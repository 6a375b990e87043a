// Ollama's use of Go templates: parsing with Ollama's extra functions, the identifiers a template
// uses (which decide its execution mode and capabilities), the implicit trailing {{ .Response }},
// and the cut after `.Response` that legacy execution applies to the last turn.
import type { ActionNode, Arg, ListNode, Node, PipeNode } from "./gotemplate/ast.js";
import {
  BUILTIN_NAMES, BUILTINS, execute, parse, TemplateExecError, TemplateParseError, type FuncDef, type GoValue, type ParsedTree,
} from "./gotemplate/index.js";
import { OLLAMA_FUNCS } from "./funcs.js";

/** A template that cannot be parsed (message: Go's `template: :<line>: ...`) or executed. */
export class TemplateError extends Error {}

const FUNCS = new Map<string, FuncDef>([...BUILTINS, ...OLLAMA_FUNCS]);
const FUNC_NAMES = new Set([...BUILTIN_NAMES, ...OLLAMA_FUNCS.keys()]);

export interface ParsedTemplate {
  source: string;
  tree: ParsedTree;
  /** Identifiers used anywhere, lower-cased (Ollama's Vars()). */
  vars: Set<string>;
}

const RESPONSE_ACTION: ActionNode = {
  kind: "action", pos: 0, line: 0,
  pipe: { kind: "pipe", pos: 0, line: 0, isAssign: false, decl: [], cmds: [{ kind: "command", pos: 0, line: 0, args: [{ kind: "field", pos: 0, line: 0, ident: ["Response"] }] }] },
};

const cache = new Map<string, ParsedTemplate>();

export function parseTemplate(source: string): ParsedTemplate {
  const hit = cache.get(source);
  if (hit) return hit;
  let tree: ParsedTree;
  try {
    tree = parse(source, FUNC_NAMES);
  } catch (e) {
    if (e instanceof TemplateParseError) throw new TemplateError(e.message);
    throw e;
  }
  const vars = new Set<string>();
  for (const list of [tree.root, ...tree.defined.values()]) for (const id of identifiers(list)) vars.add(id.toLowerCase());
  // A template that never mentions the response gets it appended, so a turn's answer follows its prompt.
  if (!vars.has("messages") && !vars.has("response")) {
    tree = { ...tree, root: { ...tree.root, nodes: [...tree.root.nodes, RESPONSE_ACTION] } };
  }
  const t = { source, tree, vars };
  if (cache.size > 64) cache.clear();
  cache.set(source, t);
  return t;
}

/** Ollama's Identifiers(): field and variable names in pipelines, not inside chains. */
function identifiers(n: Node | PipeNode | Arg): string[] {
  switch (n.kind) {
    case "list":
      return n.nodes.flatMap(identifiers);
    case "template":
      // Ollama rejects {{ template "x" }} without a pipeline when it collects identifiers.
      if (!n.pipe) throw new TemplateError("undefined template specified");
      return identifiers(n.pipe);
    case "action":
      return identifiers(n.pipe);
    case "if":
    case "range":
    case "with":
      return [...identifiers(n.pipe), ...identifiers(n.list), ...(n.elseList ? identifiers(n.elseList) : [])];
    case "pipe":
      return n.cmds.flatMap((c) => c.args.flatMap(identifiers));
    case "field":
    case "variable":
      return n.ident;
    default:
      return [];
  }
}

/** Runs `root` (default: the whole template) over `data`; execution errors become TemplateError. */
export function executeTemplate(t: ParsedTemplate, data: GoValue, root: ListNode = t.tree.root): string {
  try {
    return execute(t.tree, root, data, { source: t.source, funcs: FUNCS });
  } catch (e) {
    if (e instanceof TemplateExecError) throw new TemplateError(e.message);
    throw e;
  }
}

const cuts = new WeakMap<ParsedTemplate, ListNode>();

/**
 * The template with everything after the first `.Response` field removed (legacy mode's last turn):
 * Ollama's deleteNode walk, which also drops an action whose later pipeline stages were cut.
 */
export function truncatedAtResponse(t: ParsedTemplate): ListNode {
  let root = cuts.get(t);
  if (root) return root;
  let cut = false;
  const gone = (n: Node | Arg | PipeNode): boolean => {
    if (n.kind === "field" && n.ident.includes("Response")) {
      cut = true;
      return false;
    }
    return cut;
  };
  const list = (l: ListNode): ListNode => ({ ...l, nodes: l.nodes.map(node).filter((x): x is Node => x !== null) });
  const pipe = (p: PipeNode): PipeNode | null => {
    if (gone(p)) return null;
    const cmds = [];
    for (const c of p.cmds) {
      const args = c.args.map(arg).filter((x): x is Arg => x !== null);
      if (args.length === 0) return null;
      cmds.push({ ...c, args });
    }
    return cmds.length ? { ...p, cmds } : null;
  };
  const arg = (a: Arg): Arg | null => {
    if (gone(a)) return null;
    return a.kind === "pipe" ? pipe(a) : a;
  };
  const node = (n: Node): Node | null => {
    if (gone(n)) return null;
    switch (n.kind) {
      case "if":
      case "range":
      case "with": {
        const body = list(n.list);
        // Ollama would crash on an else branch after the cut; it is simply dropped here.
        const elseList = n.elseList && !cut ? list(n.elseList) : undefined;
        return { ...n, list: body, elseList };
      }
      case "action": {
        const p = pipe(n.pipe);
        return p ? { ...n, pipe: p } : null;
      }
      default:
        return n;
    }
  };
  root = list(t.tree.root);
  cuts.set(t, root);
  return root;
}

/**
 * Ollama's thinking-tag inference: a `.Thinking` field inside a `range` over `.Messages`; the nearest
 * enclosing list's first and last text nodes (trimmed) are the opening and closing tags.
 */
export function thinkingTags(t: ParsedTemplate): { open: string; close: string } {
  let open = "";
  let close = "";
  const ancestors: (Node | PipeNode | Arg | { kind: "command"; args: Arg[] })[] = [];
  const usesMessages = (p: PipeNode): boolean =>
    p.cmds.some((c) => c.args.some(function has(a: Arg): boolean {
      return (a.kind === "field" && a.ident[0] === "Messages") || (a.kind === "pipe" && a.cmds.some((c2) => c2.args.some(has)));
    }));
  const visit = (n: Node | PipeNode | Arg | { kind: "command"; args: Arg[] }) => {
    ancestors.push(n);
    if (n.kind === "field" && n.ident[0] === "Thinking") {
      const range = [...ancestors].reverse().find((a) => a.kind === "range") as Extract<Node, { kind: "range" }> | undefined;
      if (range && usesMessages(range.pipe)) {
        const l = [...ancestors].reverse().find((a) => a.kind === "list") as ListNode | undefined;
        if (l) {
          const first = l.nodes[0];
          const last = l.nodes[l.nodes.length - 1];
          if (first?.kind === "text") open = first.text.trim();
          if (last?.kind === "text") close = last.text.trim();
        }
      }
    }
    switch (n.kind) {
      case "list":
        n.nodes.forEach(visit);
        break;
      case "if":
      case "range":
      case "with":
        visit(n.pipe);
        visit(n.list);
        if (n.elseList) visit(n.elseList);
        break;
      case "action":
        visit(n.pipe);
        break;
      case "template":
        if (n.pipe) visit(n.pipe);
        break;
      case "pipe":
        n.cmds.forEach(visit);
        break;
      case "command":
        n.args.forEach(visit);
        break;
    }
    ancestors.pop();
  };
  visit(t.tree.root);
  return { open, close };
}

/**
 * The text a tool call starts with, from the first `{{ if ... .ToolCalls ... }}` block: its first
 * non-blank text before any action, cut at `{` and trimmed; `{` when there is none.
 */
export function toolCallTag(t: ParsedTemplate): string {
  const isToolCallsIf = (n: Extract<Node, { kind: "if" }>) =>
    n.pipe.cmds.some((c) => c.args.some((a) => a.kind === "field" && a.ident.includes("ToolCalls")));
  const findIf = (nodes: Node[]): Extract<Node, { kind: "if" }> | undefined => {
    for (const n of nodes) {
      if (n.kind === "if" && isToolCallsIf(n)) return n;
      if (n.kind === "if" || n.kind === "range" || n.kind === "with") {
        const r = findIf(n.list.nodes) ?? (n.elseList ? findIf(n.elseList.nodes) : undefined);
        if (r) return r;
      } else if (n.kind === "list") {
        const r = findIf(n.nodes);
        if (r) return r;
      }
    }
    return undefined;
  };
  const findText = (nodes: Node[]): string | undefined => {
    for (const n of nodes) {
      if (n.kind === "text") {
        if (n.text.trim() === "") continue;
        return n.text;
      }
      if (n.kind === "if" || n.kind === "range" || n.kind === "with") {
        return findText(n.list.nodes) ?? (n.elseList ? findText(n.elseList.nodes) : undefined);
      }
      if (n.kind === "list") {
        const r = findText(n.nodes);
        if (r !== undefined) return r;
      }
      if (n.kind === "action") return undefined;
    }
    return undefined;
  };
  const node = findIf(t.tree.root.nodes);
  const text = node ? findText(node.list.nodes) : undefined;
  if (text === undefined) return "{";
  const tag = text.replace(/\r\n/g, "\n").split("{")[0]!.trim();
  return tag === "" ? "{" : tag;
}
