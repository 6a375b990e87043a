// Executes a parsed Go template over Go values, with text/template's rules: variable scopes that
// end at {{end}}, `$` as the data root, pipelines passing their value as the last argument,
// short-circuit and/or, and printing where a nil interface shows as "<no value>".
import { argString, type Arg, type CommandNode, type ListNode, type Node, type PipeNode } from "./ast.js";
import { formatValue } from "./fmt.js";
import type { ParsedTree } from "./parse.js";
import { GoList, GoMap, GoStruct, sortedKeys, truth, typeName, type GoValue } from "./value.js";

export class TemplateExecError extends Error {}

/** A template function: plain values in, a value out; throw an Error to fail the call. */
export interface FuncDef {
  fn: (...args: GoValue[]) => GoValue;
  /** Fixed argument count, or the minimum for variadic functions. */
  args: number;
  variadic?: boolean;
}

/** and/or evaluate lazily, so they are special-cased rather than FuncDefs. */
const LAZY = new Set(["and", "or"]);
const MAX_DEPTH = 10000;

class BreakSignal {}
class ContinueSignal {}
/** The sentinel for "no piped value" (Go's missingVal). */
const MISSING = Symbol("missing");
type Final = GoValue | typeof MISSING;

interface Var {
  name: string;
  value: GoValue;
}

export interface ExecOptions {
  source: string;
  name?: string;
  funcs: Map<string, FuncDef>;
}

export function execute(tree: ParsedTree, root: ListNode, data: GoValue, opts: ExecOptions): string {
  const out: string[] = [];
  new State(tree, opts, out, [{ name: "$", value: data }], 0).walk(data, root);
  return out.join("");
}

class State {
  private at: { pos: number; text: string } | undefined;

  constructor(
    private readonly tree: ParsedTree,
    private readonly opts: ExecOptions,
    private readonly out: string[],
    private vars: Var[],
    private readonly depth: number,
  ) {}

  private errorf(msg: string): never {
    const name = this.opts.name ?? "";
    if (!this.at) throw new TemplateExecError(`template: ${name}: ${msg}`);
    const src = this.opts.source;
    const before = src.slice(0, this.at.pos);
    const line = before.split("\n").length;
    const col = this.at.pos - (before.lastIndexOf("\n") + 1);
    let ctx = this.at.text;
    if (ctx.length > 20) ctx = ctx.slice(0, 20) + "...";
    throw new TemplateExecError(`template: ${name}:${line}:${col}: executing ${JSON.stringify(name)} at <${ctx}>: ${msg}`);
  }

  private mark(v: { pos: number }, text: string) {
    this.at = { pos: v.pos, text };
  }

  walk(dot: GoValue, node: Node): void {
    switch (node.kind) {
      case "list":
        for (const n of node.nodes) this.walk(dot, n);
        return;
      case "text":
        this.out.push(node.text);
        return;
      case "action": {
        this.mark(node, argString(node.pipe));
        const v = this.evalPipeline(dot, node.pipe);
        if (node.pipe.decl.length === 0) this.print(v);
        return;
      }
      case "if":
      case "with": {
        const mark = this.vars.length;
        this.mark(node, argString(node.pipe));
        const v = this.evalPipeline(dot, node.pipe);
        if (typeof v === "function") this.errorf(`if/with can't use ${formatValue(v)}`);
        if (truth(v)) this.walk(node.kind === "with" ? v : dot, node.list);
        else if (node.elseList) this.walk(dot, node.elseList);
        this.vars.length = mark;
        return;
      }
      case "range":
        return this.walkRange(dot, node);
      case "template":
        return this.walkTemplate(dot, node);
      case "break":
        throw new BreakSignal();
      case "continue":
        throw new ContinueSignal();
    }
  }

  private walkRange(dot: GoValue, r: Extract<Node, { kind: "range" }>) {
    const outer = this.vars.length;
    this.mark(r, argString(r.pipe));
    const val = this.evalPipeline(dot, r.pipe);
    const mark = this.vars.length;
    const decl = r.pipe.decl;
    const one = (index: GoValue, elem: GoValue): boolean => {
      if (decl.length > 0) {
        if (r.pipe.isAssign) this.setVar(decl[0]!.ident[0]!, decl.length > 1 ? index : elem);
        else this.vars[this.vars.length - 1]!.value = elem;
      }
      if (decl.length > 1) {
        if (r.pipe.isAssign) this.setVar(decl[1]!.ident[0]!, elem);
        else this.vars[this.vars.length - 2]!.value = index;
      }
      try {
        this.walk(elem, r.list);
      } catch (e) {
        if (e instanceof BreakSignal) return false;
        if (!(e instanceof ContinueSignal)) throw e;
      } finally {
        this.vars.length = mark;
      }
      return true;
    };
    let ran = false;
    if (val instanceof GoList) {
      ran = val.items.length > 0;
      for (let i = 0; i < val.items.length; i++) if (!one(BigInt(i), val.items[i]!)) break;
    } else if (val instanceof GoMap) {
      ran = val.entries.size > 0;
      for (const k of sortedKeys(val)) if (!one(k, val.entries.get(k)!)) break;
    } else if (typeof val === "bigint") {
      ran = val > 0n;
      for (let i = 0n; i < val; i++) if (!one(i, i)) break;
    } else if (val !== null) {
      this.mark(r, argString(r.pipe));
      this.errorf(`range can't iterate over ${formatValue(val)}`);
    }
    if (!ran && r.elseList) this.walk(dot, r.elseList);
    this.vars.length = outer;
  }

  private walkTemplate(dot: GoValue, t: Extract<Node, { kind: "template" }>) {
    this.mark(t, `template ${JSON.stringify(t.name)}`);
    const body = this.tree.defined.get(t.name);
    if (!body) this.errorf(`no such template ${JSON.stringify(t.name)}`);
    if (this.depth >= MAX_DEPTH) this.errorf(`exceeded maximum template depth (${MAX_DEPTH})`);
    const value = t.pipe ? this.evalPipeline(dot, t.pipe) : null;
    new State(this.tree, this.opts, this.out, [{ name: "$", value }], this.depth + 1).walk(value, body!);
  }

  private print(v: GoValue) {
    // A pointer to a struct prints as the struct at the top of an action (text/template's printableValue).
    if (v === null) this.out.push("<no value>");
    else if (v instanceof GoStruct && v.pointer && !v.str) this.out.push(formatValue(new GoStruct(v.typeName, v.fields)));
    else if (typeof v === "function") this.errorf(`can't print ${this.at?.text ?? ""} of type ${typeName(v)}`);
    else this.out.push(formatValue(v));
  }

  private evalPipeline(dot: GoValue, pipe: PipeNode): GoValue {
    let value: Final = MISSING;
    for (const cmd of pipe.cmds) value = this.evalCommand(dot, cmd, value);
    const v = value === MISSING ? null : value;
    for (const d of pipe.decl) {
      if (pipe.isAssign) this.setVar(d.ident[0]!, v);
      else this.vars.push({ name: d.ident[0]!, value: v });
    }
    return v;
  }

  private setVar(name: string, value: GoValue) {
    for (let i = this.vars.length - 1; i >= 0; i--) {
      if (this.vars[i]!.name === name) {
        this.vars[i]!.value = value;
        return;
      }
    }
    this.errorf(`undefined variable: ${name}`);
  }

  private varValue(name: string): GoValue {
    for (let i = this.vars.length - 1; i >= 0; i--) if (this.vars[i]!.name === name) return this.vars[i]!.value;
    return this.errorf(`undefined variable: ${name}`);
  }

  private notAFunction(args: Arg[], final: Final) {
    if (args.length > 1 || final !== MISSING) this.errorf(`can't give argument to non-function ${argString(args[0]!)}`);
  }

  private evalCommand(dot: GoValue, cmd: CommandNode, final: Final): GoValue {
    const first = cmd.args[0]!;
    this.mark(first, argString(cmd));
    switch (first.kind) {
      case "field":
        return this.evalFieldChain(dot, first.ident, cmd.args, final);
      case "chain": {
        if (first.node.kind === "nil") this.errorf(`indirection through explicit nil in ${argString(first)}`);
        const base = this.evalArg(dot, first.node);
        return this.evalFieldChain(base, first.field, cmd.args, final);
      }
      case "identifier":
        return this.evalFunction(dot, first.ident, cmd.args, final);
      case "pipe":
        this.notAFunction(cmd.args, final);
        return this.evalPipeline(dot, first);
      case "variable": {
        const value = this.varValue(first.ident[0]!);
        if (first.ident.length === 1) {
          this.notAFunction(cmd.args, final);
          return value;
        }
        return this.evalFieldChain(value, first.ident.slice(1), cmd.args, final);
      }
    }
    this.notAFunction(cmd.args, final);
    switch (first.kind) {
      case "bool":
        return first.value;
      case "dot":
        return dot;
      case "nil":
        return this.errorf("nil is not a command");
      case "number":
        return first.value;
      case "string":
        return first.text;
    }
  }

  /** `.A.B.C` starting at `receiver`; only the last field may receive arguments (and then fails: no methods). */
  private evalFieldChain(receiver: GoValue, idents: string[], args: Arg[], final: Final): GoValue {
    let v = receiver;
    idents.forEach((name, i) => {
      const last = i === idents.length - 1;
      v = this.evalField(v, name, last && (args.length > 1 || final !== MISSING));
    });
    return v;
  }

  private evalField(receiver: GoValue, name: string, hasArgs: boolean): GoValue {
    if (receiver === null) return this.errorf(`nil pointer evaluating interface {}.${name}`);
    if (receiver instanceof GoMap) {
      if (hasArgs) this.errorf(`${name} is not a method but has arguments`);
      // missingkey=zero on map[string]any: the zero interface, which prints as <no value>.
      return receiver.entries.has(name) ? receiver.entries.get(name)! : null;
    }
    if (receiver instanceof GoStruct && receiver.fields.has(name)) {
      if (hasArgs) this.errorf(`${name} has arguments but cannot be invoked as function`);
      return receiver.fields.get(name)!;
    }
    return this.errorf(`can't evaluate field ${name} in type ${typeName(receiver)}`);
  }

  private evalArg(dot: GoValue, n: Arg): GoValue {
    this.mark(n, argString(n));
    switch (n.kind) {
      case "dot":
        return dot;
      case "nil":
        return null;
      case "field":
        return this.evalFieldChain(dot, n.ident, [n], MISSING);
      case "variable": {
        const value = this.varValue(n.ident[0]!);
        return n.ident.length === 1 ? value : this.evalFieldChain(value, n.ident.slice(1), [n], MISSING);
      }
      case "pipe":
        return this.evalPipeline(dot, n);
      case "identifier":
        return this.evalFunction(dot, n.ident, [n], MISSING);
      case "chain": {
        if (n.node.kind === "nil") this.errorf(`indirection through explicit nil in ${argString(n)}`);
        return this.evalFieldChain(this.evalArg(dot, n.node), n.field, [n], MISSING);
      }
      case "bool":
        return n.value;
      case "number":
        return n.value;
      case "string":
        return n.text;
    }
  }

  private evalFunction(dot: GoValue, name: string, args: Arg[], final: Final): GoValue {
    const at = this.at;
    const rest = args.slice(1);
    const n = rest.length + (final === MISSING ? 0 : 1);
    if (LAZY.has(name)) {
      if (n < 1) this.errorf(`wrong number of args for ${name}: want at least 1 got 0`);
      let v: GoValue = null;
      for (const a of rest) {
        v = this.evalArg(dot, a);
        if (truth(v) === (name === "or")) return v;
      }
      return final === MISSING ? v : final;
    }
    const def = this.opts.funcs.get(name);
    if (!def) return this.errorf(`${JSON.stringify(name)} is not a defined function`);
    if (def.variadic ? n < def.args : n !== def.args) {
      this.errorf(`wrong number of args for ${name}: want ${def.variadic ? "at least " : ""}${def.args} got ${n}`);
    }
    const values = rest.map((a) => this.evalArg(dot, a));
    if (final !== MISSING) values.push(final);
    this.at = at;
    try {
      return def.fn(...values);
    } catch (e) {
      if (e instanceof TemplateExecError) throw e;
      return this.errorf(`error calling ${name}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
}
