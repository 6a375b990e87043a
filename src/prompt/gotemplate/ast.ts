// Parse tree of a Go template, shaped like text/template/parse's nodes (Ollama's prompt logic
// walks the tree: tag inference, the `.Response` cut, identifier collection).

export type Node =
  | ListNode | TextNode | ActionNode | IfNode | RangeNode | WithNode | TemplateNode | BreakNode | ContinueNode;

export type Arg =
  | FieldNode | VariableNode | ChainNode | IdentifierNode | DotNode | NilNode | BoolNode | NumberNode | StringNode | PipeNode;

export interface Pos {
  pos: number;
  line: number;
}

export interface ListNode extends Pos { kind: "list"; nodes: Node[] }
export interface TextNode extends Pos { kind: "text"; text: string }
export interface ActionNode extends Pos { kind: "action"; pipe: PipeNode }
export interface BranchNode extends Pos { pipe: PipeNode; list: ListNode; elseList?: ListNode }
export interface IfNode extends BranchNode { kind: "if" }
export interface RangeNode extends BranchNode { kind: "range" }
export interface WithNode extends BranchNode { kind: "with" }
export interface TemplateNode extends Pos { kind: "template"; name: string; pipe?: PipeNode }
export interface BreakNode extends Pos { kind: "break" }
export interface ContinueNode extends Pos { kind: "continue" }

export interface PipeNode extends Pos { kind: "pipe"; isAssign: boolean; decl: VariableNode[]; cmds: CommandNode[] }
export interface CommandNode extends Pos { kind: "command"; args: Arg[] }
export interface FieldNode extends Pos { kind: "field"; ident: string[] }
export interface VariableNode extends Pos { kind: "variable"; ident: string[] }
export interface ChainNode extends Pos { kind: "chain"; node: Arg; field: string[] }
export interface IdentifierNode extends Pos { kind: "identifier"; ident: string }
export interface DotNode extends Pos { kind: "dot" }
export interface NilNode extends Pos { kind: "nil" }
export interface BoolNode extends Pos { kind: "bool"; value: boolean }
export interface NumberNode extends Pos { kind: "number"; text: string; value: number | bigint }
export interface StringNode extends Pos { kind: "string"; quoted: string; text: string }

/** Go's Node.String() for arguments and pipelines (execution error context). */
export function argString(a: Arg | CommandNode): string {
  switch (a.kind) {
    case "field":
      return a.ident.map((i) => "." + i).join("");
    case "variable":
      return a.ident.join(".");
    case "chain":
      return (a.node.kind === "pipe" ? `(${argString(a.node)})` : argString(a.node)) + a.field.map((f) => "." + f).join("");
    case "identifier":
      return a.ident;
    case "dot":
      return ".";
    case "nil":
      return "nil";
    case "bool":
      return String(a.value);
    case "number":
      return a.text;
    case "string":
      return a.quoted;
    case "command":
      return a.args.map((x) => (x.kind === "pipe" ? `(${argString(x)})` : argString(x))).join(" ");
    case "pipe": {
      const decl = a.decl.length ? `${a.decl.map((d) => d.ident.join(".")).join(", ")} ${a.isAssign ? "=" : ":="} ` : "";
      return decl + a.cmds.map(argString).join(" | ");
    }
  }
}

/** Go's Node.String() for template nodes. */
export function nodeString(n: Node): string {
  switch (n.kind) {
    case "list":
      return n.nodes.map(nodeString).join("");
    case "text":
      return n.text;
    case "action":
      return `{{${argString(n.pipe)}}}`;
    case "if":
    case "range":
    case "with": {
      const els = n.elseList ? `{{else}}${nodeString(n.elseList)}` : "";
      return `{{${n.kind} ${argString(n.pipe)}}}${nodeString(n.list)}${els}{{end}}`;
    }
    case "template":
      return n.pipe ? `{{template ${JSON.stringify(n.name)} ${argString(n.pipe)}}}` : `{{template ${JSON.stringify(n.name)}}}`;
    case "break":
      return "{{break}}";
    case "continue":
      return "{{continue}}";
  }
}
