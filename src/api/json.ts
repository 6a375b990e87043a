// Reads the first JSON value of a request body the way Go's json.Decoder does: trailing bytes are
// ignored, and syntax errors carry Go's wording (clients and tests match on it).
import { ApiError } from "./errors.js";

const WS = new Set([0x20, 0x09, 0x0a, 0x0d]);

function quoteChar(c: number): string {
  if (c === 0x27) return "'\\''";
  if (c === 0x22) return "'\"'";
  if (c < 0x20) return `'\\x${c.toString(16).padStart(2, "0")}'`;
  return `'${String.fromCodePoint(c)}'`;
}

class Scanner {
  i = 0;
  constructor(private readonly s: string) {}

  fail(context: string): never {
    if (this.i >= this.s.length) throw new ApiError(400, "unexpected EOF");
    throw new ApiError(400, `invalid character ${quoteChar(this.s.codePointAt(this.i)!)} ${context}`);
  }
  ws() {
    while (this.i < this.s.length && WS.has(this.s.charCodeAt(this.i))) this.i++;
  }
  value() {
    this.ws();
    const c = this.s.charCodeAt(this.i);
    if (c === 0x7b) return this.object();
    if (c === 0x5b) return this.array();
    if (c === 0x22) return this.string();
    if (c === 0x2d || (c >= 0x30 && c <= 0x39)) return this.number();
    if (c === 0x74) return this.literal("true");
    if (c === 0x66) return this.literal("false");
    if (c === 0x6e) return this.literal("null");
    this.fail("looking for beginning of value");
  }
  object() {
    this.i++;
    this.ws();
    if (this.s.charCodeAt(this.i) === 0x7d) return void this.i++;
    for (;;) {
      this.ws();
      if (this.s.charCodeAt(this.i) !== 0x22) this.fail("looking for beginning of object key string");
      this.string();
      this.ws();
      if (this.s.charCodeAt(this.i) !== 0x3a) this.fail("after object key");
      this.i++;
      this.value();
      this.ws();
      const c = this.s.charCodeAt(this.i);
      if (c === 0x2c) { this.i++; continue; }
      if (c === 0x7d) return void this.i++;
      this.fail("after object key:value pair");
    }
  }
  array() {
    this.i++;
    this.ws();
    if (this.s.charCodeAt(this.i) === 0x5d) return void this.i++;
    for (;;) {
      this.value();
      this.ws();
      const c = this.s.charCodeAt(this.i);
      if (c === 0x2c) { this.i++; continue; }
      if (c === 0x5d) return void this.i++;
      this.fail("after array element");
    }
  }
  string() {
    this.i++;
    while (this.i < this.s.length) {
      const c = this.s.charCodeAt(this.i);
      if (c === 0x22) return void this.i++;
      if (c < 0x20) this.fail("in string literal");
      if (c === 0x5c) {
        this.i++;
        const e = this.s[this.i];
        if (e === "u") {
          for (let k = 1; k <= 4; k++) {
            if (!/[0-9a-fA-F]/.test(this.s[this.i + k] ?? "")) { this.i += k; this.fail("in \\u hexadecimal character escape"); }
          }
          this.i += 5;
          continue;
        }
        if (!e || !'"\\/bfnrt'.includes(e)) this.fail("in string escape code");
      }
      this.i++;
    }
    this.fail("in string literal");
  }
  number() {
    const m = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(this.s.slice(this.i, this.i + 400));
    if (!m || m[0] === "-") {
      this.i += m ? 1 : 0;
      this.fail("in numeric literal");
    }
    this.i += m[0].length;
  }
  literal(word: string) {
    for (let k = 0; k < word.length; k++) {
      if (this.s[this.i] !== word[k]) this.fail(`in literal ${word} (expecting '${word[k]}')`);
      this.i++;
    }
  }
}

/** Parses the first JSON value of `body`. Empty body -> "missing request body"; `null` -> null. */
export function parseRequestJson(body: Buffer | string): unknown {
  const text = typeof body === "string" ? body : body.toString("utf8");
  if (text.trim() === "") throw new ApiError(400, "missing request body");
  const sc = new Scanner(text);
  sc.ws();
  const start = sc.i;
  sc.value();
  return JSON.parse(text.slice(start, sc.i));
}
