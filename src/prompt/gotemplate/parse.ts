// Parser for Go's text/template, following text/template/parse: the same tree shapes (else-if
// chains as nested ifs, field chains folded into fields and variables) and the same error texts,
// reported as `template: <name>:<line>: <message>`.
import type {
  ActionNode, Arg, CommandNode, ListNode, Node, NumberNode, PipeNode, StringNode, TemplateNode, VariableNode,
} from "./ast.js";
import { itemString, lex, type Item, type ItemType } from "./lex.js";

export class TemplateParseError extends Error {}

export interface ParsedTree {
  root: ListNode;
  /** Templates from {{define}} and {{block}}, by name. */
  defined: Map<string, ListNode>;
}

type EndNode = { kind: "end"; pos: number; line: number } | { kind: "else"; pos: number; line: number };

export function parse(source: string, funcs: Set<string>, name = ""): ParsedTree {
  const items = lex(source);
  let i = 0;
  let vars: string[] = ["$"];
  let rangeDepth = 0;
  let actionLine = 0;
  const defined = new Map<string, ListNode>();

  const error = (msg: string, line?: number): never => {
    const at = line ?? items[Math.max(0, Math.min(i, items.length) - 1)]?.line ?? 1;
    throw new TemplateParseError(`template: ${name}:${at}: ${msg}`);
  };
  const next = (): Item => items[Math.min(i++, items.length - 1)]!;
  const backup = () => void i--;
  const peek = (): Item => items[Math.min(i, items.length - 1)]!;
  const nextNonSpace = (): Item => {
    let t = next();
    while (t.typ === "space") t = next();
    return t;
  };
  const peekNonSpace = (): Item => {
    const t = nextNonSpace();
    backup();
    return t;
  };
  const unexpected = (t: Item, context: string): never => {
    if (t.typ === "error") {
      let extra = "";
      if (actionLine !== 0 && actionLine !== t.line) {
        extra = ` in action started at ${name}:${actionLine}`;
        if (t.val.endsWith(" action")) extra = extra.slice(" in action".length);
      }
      return error(`${t.val}${extra}`, t.line);
    }
    return error(`unexpected ${itemString(t)} in ${context}`, t.line);
  };
  const expect = (typ: ItemType, context: string): Item => {
    const t = nextNonSpace();
    if (t.typ !== typ) unexpected(t, context);
    return t;
  };

  const itemList = (): [ListNode, EndNode] => {
    const first = peekNonSpace();
    const list: ListNode = { kind: "list", pos: first.pos, line: first.line, nodes: [] };
    while (peekNonSpace().typ !== "eof") {
      const n = textOrAction();
      if (n.kind === "end" || n.kind === "else") return [list, n];
      list.nodes.push(n);
    }
    return error("unexpected EOF", peek().line);
  };

  const textOrAction = (): Node | EndNode => {
    const t = nextNonSpace();
    switch (t.typ) {
      case "text":
        return { kind: "text", pos: t.pos, line: t.line, text: t.val };
      case "leftDelim": {
        const saved = actionLine;
        actionLine = t.line;
        try {
          return action();
        } finally {
          actionLine = saved;
        }
      }
      default:
        return unexpected(t, "input");
    }
  };

  const action = (): Node | EndNode => {
    const t = nextNonSpace();
    switch (t.typ) {
      case "block":
        return blockControl();
      case "break":
      case "continue": {
        const close = nextNonSpace();
        if (close.typ !== "rightDelim") unexpected(close, `{{${t.typ}}}`);
        if (rangeDepth === 0) error(`{{${t.typ}}} outside {{range}}`, t.line);
        return { kind: t.typ, pos: t.pos, line: t.line };
      }
      case "else": {
        const p = peekNonSpace();
        // "{{else if" and "{{else with" are an else holding a nested if/with; see control().
        if (p.typ === "if" || p.typ === "with") return { kind: "else", pos: p.pos, line: p.line };
        const close = expect("rightDelim", "else");
        return { kind: "else", pos: close.pos, line: close.line };
      }
      case "end":
        return { kind: "end", pos: expect("rightDelim", "end").pos, line: t.line };
      case "if":
      case "range":
      case "with":
        return control(t.typ);
      case "template":
        return templateControl();
    }
    backup();
    const p = peek();
    const node: ActionNode = { kind: "action", pos: p.pos, line: p.line, pipe: pipeline("command", "rightDelim") };
    return node;
  };

  const control = (context: "if" | "range" | "with"): Node => {
    const mark = vars.length;
    try {
      const pipe = pipeline(context, "rightDelim");
      if (context === "range") rangeDepth++;
      const [list, end] = itemList();
      if (context === "range") rangeDepth--;
      let elseList: ListNode | undefined;
      if (end.kind === "else") {
        // {{if a}}x{{else if b}}y{{end}} is {{if a}}x{{else}}{{if b}}y{{end}}{{end}}: parse the inner
        // if up to its {{end}}, which also ends the outer one.
        if ((context === "if" && peek().typ === "if") || (context === "with" && peek().typ === "with")) {
          next();
          elseList = { kind: "list", pos: end.pos, line: end.line, nodes: [control(context)] };
        } else {
          const [els, end2] = itemList();
          if (end2.kind !== "end") error(`expected end; found {{else}}`, end2.line);
          elseList = els;
        }
      }
      return { kind: context, pos: pipe.pos, line: pipe.line, pipe, list, elseList };
    } finally {
      vars = vars.slice(0, mark);
    }
  };

  const templateName = (t: Item, context: string): string => {
    if (t.typ === "string" || t.typ === "rawString") return unquote(t);
    return unexpected(t, context);
  };

  const templateControl = (): TemplateNode => {
    const context = "template clause";
    const t = nextNonSpace();
    const tname = templateName(t, context);
    let pipe: PipeNode | undefined;
    if (nextNonSpace().typ !== "rightDelim") {
      backup();
      pipe = pipeline(context, "rightDelim");
    }
    return { kind: "template", pos: t.pos, line: t.line, name: tname, pipe };
  };

  const blockControl = (): TemplateNode => {
    const context = "block clause";
    const t = nextNonSpace();
    const tname = templateName(t, context);
    const pipe = pipeline(context, "rightDelim");
    defineBody(tname, context);
    return { kind: "template", pos: t.pos, line: t.line, name: tname, pipe };
  };

  /** A named template's body up to {{end}}, parsed in a scope of its own (only `$`, outside any range). */
  const defineBody = (tname: string, context: string) => {
    const saved = { vars, rangeDepth };
    vars = ["$"];
    rangeDepth = 0;
    const [body, end] = itemList();
    if (end.kind !== "end") error(`unexpected {{else}} in ${context}`, end.line);
    ({ vars, rangeDepth } = saved);
    defined.set(tname, body);
  };

  const definition = () => {
    const context = "define clause";
    const t = nextNonSpace();
    const tname = templateName(t, context);
    expect("rightDelim", context);
    defineBody(tname, context);
  };

  const pipeline = (context: string, end: ItemType): PipeNode => {
    const first = peekNonSpace();
    const pipe: PipeNode = { kind: "pipe", pos: first.pos, line: first.line, isAssign: false, decl: [], cmds: [] };
    // Declarations ($x := ..., $x = ..., range $i, $v := ...) need look-ahead past the variable.
    for (;;) {
      const v = peekNonSpace();
      if (v.typ !== "variable") break;
      nextNonSpace();
      const afterVar = peek();
      const nx = peekNonSpace();
      if (nx.typ === "assign" || nx.typ === "declare") {
        pipe.isAssign = nx.typ === "assign";
        nextNonSpace();
        pipe.decl.push(variable(v));
        vars.push(v.val);
      } else if (nx.typ === "char" && nx.val === ",") {
        nextNonSpace();
        pipe.decl.push(variable(v));
        vars.push(v.val);
        if (context === "range" && pipe.decl.length < 2) {
          const p = peekNonSpace().typ;
          if (p === "variable" || p === "rightDelim" || p === "rightParen") continue;
          error("range can only initialize variables");
        }
        error(`too many declarations in ${context}`);
      } else if (afterVar.typ === "space") {
        // "$x foo": the variable is an operand; rewind to it.
        i -= 2;
        while (items[i]!.typ !== "variable") i--;
      } else {
        backup();
      }
      break;
    }
    for (;;) {
      const t = nextNonSpace();
      if (t.typ === end) {
        checkPipeline(pipe, context);
        return pipe;
      }
      switch (t.typ) {
        case "bool": case "charConstant": case "dot": case "field": case "identifier": case "number":
        case "nil": case "rawString": case "string": case "variable": case "leftParen":
          backup();
          pipe.cmds.push(command());
          break;
        default:
          unexpected(t, context);
      }
    }
  };

  const checkPipeline = (pipe: PipeNode, context: string) => {
    if (pipe.cmds.length === 0) error(`missing value for ${context}`);
    pipe.cmds.slice(1).forEach((c, k) => {
      const k0 = c.args[0]!.kind;
      if (k0 === "bool" || k0 === "dot" || k0 === "nil" || k0 === "number" || k0 === "string") {
        error(`non executable command in pipeline stage ${k + 2}`);
      }
    });
  };

  const command = (): CommandNode => {
    const p = peekNonSpace();
    const cmd: CommandNode = { kind: "command", pos: p.pos, line: p.line, args: [] };
    for (;;) {
      peekNonSpace();
      const op = operand();
      if (op) cmd.args.push(op);
      const t = next();
      if (t.typ === "space") continue;
      if (t.typ === "rightDelim" || t.typ === "rightParen") backup();
      else if (t.typ !== "pipe") unexpected(t, "operand");
      break;
    }
    if (cmd.args.length === 0) error("empty command");
    return cmd;
  };

  const operand = (): Arg | undefined => {
    const node = term();
    if (!node) return undefined;
    if (peek().typ !== "field") return node;
    const fields: string[] = [];
    const at = peek();
    while (peek().typ === "field") fields.push(next().val.slice(1));
    switch (node.kind) {
      case "field":
        return { ...node, ident: [...node.ident, ...fields] };
      case "variable":
        return { ...node, ident: [...node.ident, ...fields] };
      case "bool": case "string": case "number": case "nil": case "dot": {
        const s = node.kind === "string" ? node.quoted : node.kind === "number" ? node.text : node.kind === "bool" ? String(node.value) : node.kind === "nil" ? "nil" : ".";
        return error(`unexpected . after term ${JSON.stringify(s)}`);
      }
      default:
        return { kind: "chain", pos: at.pos, line: at.line, node, field: fields };
    }
  };

  const term = (): Arg | undefined => {
    const t = nextNonSpace();
    switch (t.typ) {
      case "identifier":
        if (!funcs.has(t.val)) error(`function ${JSON.stringify(t.val)} not defined`);
        return { kind: "identifier", pos: t.pos, line: t.line, ident: t.val };
      case "dot":
        return { kind: "dot", pos: t.pos, line: t.line };
      case "nil":
        return { kind: "nil", pos: t.pos, line: t.line };
      case "variable": {
        const v = variable(t);
        if (!vars.includes(v.ident[0]!)) error(`undefined variable ${JSON.stringify(v.ident[0])}`);
        return v;
      }
      case "field":
        return { kind: "field", pos: t.pos, line: t.line, ident: t.val.slice(1).split(".") };
      case "bool":
        return { kind: "bool", pos: t.pos, line: t.line, value: t.val === "true" };
      case "charConstant":
      case "number":
        return number(t);
      case "leftParen":
        return pipeline("parenthesized pipeline", "rightParen");
      case "string":
      case "rawString":
        return { kind: "string", pos: t.pos, line: t.line, quoted: t.val, text: unquote(t) } satisfies StringNode;
    }
    backup();
    return undefined;
  };

  const variable = (t: Item): VariableNode => ({ kind: "variable", pos: t.pos, line: t.line, ident: t.val.split(".") });

  const number = (t: Item): NumberNode => {
    const value = t.typ === "charConstant" ? charValue(t) : numberValue(t.val);
    if (value === undefined) error(`illegal number syntax: ${JSON.stringify(t.val)}`);
    return { kind: "number", pos: t.pos, line: t.line, text: t.val, value: value! };
  };

  const charValue = (t: Item): bigint | undefined => {
    const s = unquoteString(t.val.slice(1, -1), "'");
    if (s === undefined || [...s].length !== 1) return error(`malformed character constant: ${t.val}`);
    return BigInt(s.codePointAt(0)!);
  };

  const unquote = (t: Item): string => {
    if (t.typ === "rawString") return t.val.slice(1, -1).replace(/\r/g, "");
    const s = unquoteString(t.val.slice(1, -1), '"');
    if (s === undefined) error("invalid syntax");
    return s!;
  };

  const root: Node[] = [];
  while (peek().typ !== "eof") {
      if (peek().typ === "leftDelim") {
        const save = i;
        next();
        if (nextNonSpace().typ === "define") {
          definition();
          continue;
        }
        i = save;
      }
      const n = textOrAction();
      if (n.kind === "end" || n.kind === "else") error(`unexpected {{${n.kind}}}`, n.line);
      root.push(n as Node);
    }
  return { root: { kind: "list", pos: 0, line: 1, nodes: root }, defined };
}

/** strconv.Unquote's escapes for a "..." or '...' body; undefined when malformed. */
function unquoteString(body: string, quote: string): string | undefined {
  let out = "";
  for (let k = 0; k < body.length; k++) {
    const c = body[k]!;
    if (c === quote) return undefined;
    if (c !== "\\") {
      out += c;
      continue;
    }
    const e = body[++k];
    const hex = (n: number) => {
      const h = body.slice(k + 1, k + 1 + n);
      if (!new RegExp(`^[0-9a-fA-F]{${n}}$`).test(h)) return undefined;
      k += n;
      return parseInt(h, 16);
    };
    switch (e) {
      case "a": out += "\x07"; break;
      case "b": out += "\b"; break;
      case "f": out += "\f"; break;
      case "n": out += "\n"; break;
      case "r": out += "\r"; break;
      case "t": out += "\t"; break;
      case "v": out += "\v"; break;
      case "\\": out += "\\"; break;
      case "'": case '"':
        if (e !== quote) return undefined;
        out += e;
        break;
      case "x": {
        const v = hex(2);
        if (v === undefined) return undefined;
        out += String.fromCharCode(v);
        break;
      }
      case "u": case "U": {
        const v = hex(e === "u" ? 4 : 8);
        if (v === undefined || v > 0x10ffff) return undefined;
        out += String.fromCodePoint(v);
        break;
      }
      default: {
        if (e === undefined || !/[0-7]/.test(e)) return undefined;
        const o = body.slice(k, k + 3);
        if (!/^[0-7]{3}$/.test(o)) return undefined;
        k += 2;
        out += String.fromCharCode(parseInt(o, 8));
      }
    }
  }
  return out;
}

/** A Go number literal as the value text/template gives it: int when integral syntax, else float64. */
function numberValue(text: string): number | bigint | undefined {
  const t = text.replace(/_/g, "");
  if (t.endsWith("i")) return undefined;
  const sign = t.startsWith("-") ? -1n : 1n;
  const body = t.replace(/^[+-]/, "");
  try {
    if (/^0[xX][0-9a-fA-F]+$/.test(body) || /^0[bB][01]+$/.test(body) || /^0[oO][0-7]+$/.test(body)) return sign * BigInt(body.toLowerCase());
    if (/^0[0-7]+$/.test(body)) return sign * BigInt("0o" + body.slice(1));
    if (/^[0-9]+$/.test(body)) return sign * BigInt(body);
  } catch {
    return undefined;
  }
  if (/^([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$/.test(body)) {
    const f = Number(body);
    return sign < 0n ? -f : f;
  }
  if (/^0[xX]/.test(body)) {
    const m = /^0[xX]([0-9a-fA-F]*)(?:\.([0-9a-fA-F]*))?[pP]([+-]?[0-9]+)$/.exec(body);
    if (!m) return undefined;
    const mant = parseInt((m[1] || "0") + (m[2] ?? ""), 16) / 16 ** (m[2]?.length ?? 0);
    const f = mant * 2 ** Number(m[3]);
    return sign < 0n ? -f : f;
  }
  return undefined;
}
