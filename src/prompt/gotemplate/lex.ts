// Lexer for Go's text/template: the same items, trim-marker and comment rules, and error texts as
// Go's text/template/parse lexer, so that parse errors read the same.

export type ItemType =
  | "error" | "bool" | "char" | "charConstant" | "assign" | "declare" | "eof" | "field" | "identifier"
  | "leftDelim" | "leftParen" | "number" | "pipe" | "rawString" | "rightDelim" | "rightParen" | "space"
  | "string" | "text" | "variable" | "dot" | "nil"
  // keywords
  | "block" | "break" | "continue" | "define" | "else" | "end" | "if" | "range" | "template" | "with";

export interface Item {
  typ: ItemType;
  pos: number;
  val: string;
  line: number;
}

const KEYWORDS: Record<string, ItemType> = {
  ".": "dot", block: "block", break: "break", continue: "continue", define: "define", else: "else",
  end: "end", if: "if", range: "range", nil: "nil", template: "template", with: "with",
};
const KEYWORD_TYPES = new Set<ItemType>(["block", "break", "continue", "define", "else", "end", "if", "range", "template", "with", "dot", "nil"]);

/** Go's item.String(), used in "unexpected X in Y" errors. */
export function itemString(i: Item): string {
  if (i.typ === "eof") return "EOF";
  if (i.typ === "error") return i.val;
  if (KEYWORD_TYPES.has(i.typ)) return `<${i.val}>`;
  const q = (s: string) => JSON.stringify(s);
  if ([...i.val].length > 10) return `${q([...i.val].slice(0, 10).join(""))}...`;
  return q(i.val);
}

const isSpace = (c: string | undefined) => c === " " || c === "\t" || c === "\r" || c === "\n";
const isAlnum = (c: string | undefined) => c !== undefined && /^[\p{L}\p{Nd}_]$/u.test(c);
const trimRightLength = (s: string) => s.length - s.replace(/[ \t\r\n]+$/, "").length;
const trimLeftLength = (s: string) => s.length - s.replace(/^[ \t\r\n]+/, "").length;

const LEFT = "{{";
const RIGHT = "}}";

/** Go's %#U for an error about a character. */
function charU(c: string): string {
  const cp = c.codePointAt(0)!;
  return `U+${cp.toString(16).toUpperCase().padStart(4, "0")} '${c}'`;
}

export function lex(input: string): Item[] {
  const items: Item[] = [];
  let pos = 0;
  let start = 0;
  let line = 1;
  let startLine = 1;
  let parenDepth = 0;

  const emit = (typ: ItemType) => {
    items.push({ typ, pos: start, val: input.slice(start, pos), line: startLine });
    start = pos;
    startLine = line;
  };
  const ignore = () => {
    line += count(input.slice(start, pos));
    start = pos;
    startLine = line;
  };
  const advance = (n: number) => {
    line += count(input.slice(pos, pos + n));
    pos += n;
  };
  const fail = (msg: string): never => {
    items.push({ typ: "error", pos: start, val: msg, line: startLine });
    throw new LexStop();
  };
  const peek = () => input[pos];
  const next = () => {
    const c = input[pos];
    if (c !== undefined) advance(1);
    return c;
  };
  /** At a right delimiter, possibly with its " -" trim marker. */
  const atRightDelim = (): [boolean, boolean] => {
    if (isSpace(input[pos]) && input[pos + 1] === "-" && input.startsWith(RIGHT, pos + 2)) return [true, true];
    if (input.startsWith(RIGHT, pos)) return [true, false];
    return [false, false];
  };
  const atTerminator = () => {
    const c = input[pos];
    return c === undefined || isSpace(c) || c === "." || c === "," || c === "|" || c === ":" || c === ")" || c === "(" || c === "}";
  };

  const lexText = (): boolean => {
    const x = input.indexOf(LEFT, pos);
    if (x < 0) {
      pos = input.length;
      if (pos > start) {
        line += count(input.slice(start, pos));
        emit("text");
      }
      items.push({ typ: "eof", pos, val: "", line });
      return false;
    }
    if (x > pos || x > start) {
      pos = x;
      const afterDelim = input.slice(pos + LEFT.length);
      const trim = afterDelim[0] === "-" && isSpace(afterDelim[1]) ? trimRightLength(input.slice(start, pos)) : 0;
      const textEnd = pos - trim;
      const text = input.slice(start, textEnd);
      if (text.length > 0) items.push({ typ: "text", pos: start, val: text, line: startLine });
      line += count(input.slice(start, pos));
      start = pos;
      startLine = line;
    }
    lexLeftDelim();
    return true;
  };

  const lexLeftDelim = () => {
    pos += LEFT.length;
    const trim = input[pos] === "-" && isSpace(input[pos + 1]);
    const after = trim ? 2 : 0;
    if (input.startsWith("/*", pos + after)) {
      advance(after);
      ignore();
      lexComment();
      return;
    }
    items.push({ typ: "leftDelim", pos: start, val: LEFT, line: startLine });
    advance(after);
    ignore();
    parenDepth = 0;
    lexInsideAction();
  };

  const lexComment = () => {
    pos += 2;
    const x = input.indexOf("*/", pos);
    if (x < 0) fail("unclosed comment");
    advance(x + 2 - pos);
    const [delim, trim] = atRightDelim();
    if (!delim) fail("comment ends before closing delimiter");
    if (trim) advance(2);
    advance(RIGHT.length);
    if (trim) advance(trimLeftLength(input.slice(pos)));
    ignore();
  };

  const lexRightDelim = (trim: boolean) => {
    if (trim) {
      advance(2);
      ignore();
    }
    advance(RIGHT.length);
    emit("rightDelim");
    if (trim) {
      advance(trimLeftLength(input.slice(pos)));
      ignore();
    }
  };

  const lexInsideAction = () => {
    for (;;) {
      const [delim, trim] = atRightDelim();
      if (delim) {
        if (parenDepth === 0) return lexRightDelim(trim);
        fail("unclosed left paren");
      }
      const c = next();
      if (c === undefined) fail("unclosed action");
      else if (isSpace(c)) lexSpace();
      else if (c === "=") emit("assign");
      else if (c === ":") {
        if (next() !== "=") fail("expected :=");
        emit("declare");
      } else if (c === "|") emit("pipe");
      else if (c === '"') lexQuote();
      else if (c === "`") lexRawQuote();
      else if (c === "$") lexFieldOrVariable("variable");
      else if (c === "'") lexChar();
      else if (c === "." && pos < input.length && !/[0-9]/.test(input[pos]!)) lexFieldOrVariable("field");
      else if (c === "+" || c === "-" || /[0-9.]/.test(c)) {
        pos--;
        lexNumber();
      } else if (isAlnum(c)) {
        pos--;
        lexIdentifier();
      } else if (c === "(") {
        emit("leftParen");
        parenDepth++;
      } else if (c === ")") {
        parenDepth--;
        if (parenDepth < 0) fail(`unexpected right paren`);
        emit("rightParen");
      } else if (c.charCodeAt(0) < 0x7f && c.charCodeAt(0) >= 0x20) emit("char");
      else fail(`unrecognized character in action: ${charU(c)}`);
    }
  };

  const lexSpace = () => {
    let n = 1;
    while (isSpace(peek())) {
      next();
      n++;
    }
    // A space followed by "-}}" belongs to the trim marker.
    if (input[pos - 1] !== undefined && isSpace(input[pos - 1]) && input[pos] === "-" && input.startsWith(RIGHT, pos + 1)) {
      pos--;
      if (input[pos] === "\n") line--;
      if (n === 1) return;
    }
    emit("space");
  };

  const lexIdentifier = () => {
    while (isAlnum(peek())) next();
    if (!atTerminator()) fail(`bad character ${charU(input[pos]!)}`);
    const word = input.slice(start, pos);
    const kw = KEYWORDS[word];
    if (kw && kw !== "dot") emit(kw);
    else if (word === "true" || word === "false") emit("bool");
    else emit("identifier");
  };

  const lexFieldOrVariable = (typ: "field" | "variable") => {
    if (atTerminator()) {
      emit(typ === "variable" ? "variable" : "dot");
      return;
    }
    while (isAlnum(peek())) next();
    if (!atTerminator()) fail(`bad character ${charU(input[pos]!)}`);
    emit(typ);
  };

  const lexQuote = () => {
    for (;;) {
      const c = next();
      if (c === "\\") {
        const d = next();
        if (d !== undefined && d !== "\n") continue;
        fail("unterminated quoted string");
      }
      if (c === undefined || c === "\n") fail("unterminated quoted string");
      if (c === '"') break;
    }
    emit("string");
  };

  const lexRawQuote = () => {
    const x = input.indexOf("`", pos);
    if (x < 0) fail("unterminated raw quoted string");
    advance(x + 1 - pos);
    emit("rawString");
  };

  const lexChar = () => {
    for (;;) {
      const c = next();
      if (c === "\\") {
        const d = next();
        if (d !== undefined && d !== "\n") continue;
        fail("unterminated character constant");
      }
      if (c === undefined || c === "\n") fail("unterminated character constant");
      if (c === "'") break;
    }
    emit("charConstant");
  };

  const lexNumber = () => {
    const m = /^[+-]?(0[xX][0-9a-fA-F_]*(\.[0-9a-fA-F_]*)?([pP][+-]?[0-9_]+)?|0[bB][01_]*|0[oO][0-7_]*|[0-9_]*(\.[0-9_]*)?([eE][+-]?[0-9_]+)?)i?/.exec(input.slice(pos))!;
    advance(m[0].length);
    if (isAlnum(peek())) {
      next();
      fail(`bad number syntax: ${JSON.stringify(input.slice(start, pos))}`);
    }
    emit("number");
  };

  try {
    while (lexText());
  } catch (e) {
    if (!(e instanceof LexStop)) throw e;
  }
  return items;
}

class LexStop extends Error {}

function count(s: string): number {
  let n = 0;
  for (let i = s.indexOf("\n"); i >= 0; i = s.indexOf("\n", i + 1)) n++;
  return n;
}
