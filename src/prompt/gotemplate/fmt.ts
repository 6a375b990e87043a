// Go's fmt package as templates use it: Sprint/Sprintln/Sprintf with the common verbs, and the
// default (%v) formatting of Go values, including float64's shortest %g form (1e+06).
import { GoList, GoMap, GoStruct, sortedKeys, typeName, type GoValue } from "./value.js";

/** strconv.FormatFloat(f, 'g', -1, 64), which %v uses: shortest digits, exponent form when exp < -4 or exp >= 6. */
export function formatFloatShortest(f: number): string {
  if (Number.isNaN(f)) return "NaN";
  if (f === Infinity) return "+Inf";
  if (f === -Infinity) return "-Inf";
  if (f === 0) return Object.is(f, -0) ? "-0" : "0";
  const [mant, expStr] = f.toExponential().split("e") as [string, string];
  const neg = mant.startsWith("-");
  const digits = mant.replace("-", "").replace(".", "");
  const exp = Number(expStr);
  let out: string;
  if (exp < -4 || exp >= 6) out = expForm(digits, exp);
  else out = fixedForm(digits, exp);
  return neg ? "-" + out : out;
}

function expForm(digits: string, exp: number): string {
  const m = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
  const e = Math.abs(exp);
  return `${m}e${exp < 0 ? "-" : "+"}${e < 10 ? "0" + e : e}`;
}

function fixedForm(digits: string, exp: number): string {
  if (exp < 0) return "0." + "0".repeat(-exp - 1) + digits;
  if (digits.length <= exp + 1) return digits + "0".repeat(exp + 1 - digits.length);
  return `${digits.slice(0, exp + 1)}.${digits.slice(exp + 1)}`;
}

/** Go's %e with a precision. */
function formatExp(f: number, prec: number, upper: boolean): string {
  const [m, e] = f.toExponential(prec).split("e") as [string, string];
  const n = Number(e);
  const out = `${m}e${n < 0 ? "-" : "+"}${Math.abs(n) < 10 ? "0" + Math.abs(n) : Math.abs(n)}`;
  return upper ? out.toUpperCase() : out;
}

/** Go's %g with an explicit precision: trailing zeros dropped. */
function formatG(f: number, prec: number): string {
  if (prec === 0) prec = 1;
  const [m, e] = f.toExponential(prec - 1).split("e") as [string, string];
  const exp = Number(e);
  const neg = m.startsWith("-");
  const digits = m.replace("-", "").replace(".", "").replace(/0+$/, "") || "0";
  let eprec = prec;
  if (eprec > digits.length && digits.length >= exp + 1) eprec = digits.length;
  const out = exp < -4 || exp >= eprec ? expForm(digits, exp) : fixedForm(digits, exp);
  return neg ? "-" + out : out;
}

/** strconv.Quote: a double-quoted Go string literal. */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    switch (ch) {
      case '"':
        out += '\\"';
        continue;
      case "\\":
        out += "\\\\";
        continue;
      case "\x07":
        out += "\\a";
        continue;
      case "\b":
        out += "\\b";
        continue;
      case "\f":
        out += "\\f";
        continue;
      case "\n":
        out += "\\n";
        continue;
      case "\r":
        out += "\\r";
        continue;
      case "\t":
        out += "\\t";
        continue;
      case "\v":
        out += "\\v";
        continue;
    }
    if (c < 0x20 || c === 0x7f) out += "\\x" + c.toString(16).padStart(2, "0");
    else if ((c >= 0x80 && c < 0xa0) || c === 0x2028 || c === 0x2029 || c === 0xfeff || (c >= 0xd800 && c < 0xe000)) {
      out += "\\u" + c.toString(16).padStart(4, "0");
    } else out += ch;
  }
  return out + '"';
}

/** The %v form of a value; `top` is false inside composites. */
export function formatValue(v: GoValue, top = true): string {
  if (v === null) return "<nil>";
  switch (typeof v) {
    case "string":
      return v;
    case "boolean":
      return v ? "true" : "false";
    case "number":
      return formatFloatShortest(v);
    case "bigint":
      return v.toString();
    case "function":
      return "0x1";
  }
  if (v.str) return v.str();
  if (v instanceof GoList) return `[${v.items.map((x) => formatValue(x, false)).join(" ")}]`;
  if (v instanceof GoMap) return `map[${sortedKeys(v).map((k) => `${k}:${formatValue(v.entries.get(k)!, false)}`).join(" ")}]`;
  const body = `{${[...v.fields.values()].map((x) => formatValue(x, false)).join(" ")}}`;
  return v.pointer && top ? "&" + body : body;
}

const isString = (v: GoValue) => typeof v === "string";

/** fmt.Sprint: operands formatted with %v, a space between operands when neither is a string. */
export function sprint(args: GoValue[]): string {
  let out = "";
  args.forEach((a, i) => {
    if (i > 0 && !isString(a) && !isString(args[i - 1]!)) out += " ";
    out += formatValue(a);
  });
  return out;
}

/** fmt.Sprintln: spaces always, newline at the end. */
export function sprintln(args: GoValue[]): string {
  return args.map((a) => formatValue(a)).join(" ") + "\n";
}

interface Spec {
  minus: boolean;
  plus: boolean;
  sharp: boolean;
  space: boolean;
  zero: boolean;
  width?: number;
  prec?: number;
}

function pad(s: string, spec: Spec, numeric: boolean): string {
  if (spec.width === undefined || s.length >= spec.width) return s;
  const n = spec.width - [...s].length;
  if (n <= 0) return s;
  if (spec.minus) return s + " ".repeat(n);
  if (spec.zero && numeric) {
    const sign = /^[+\- ]/.test(s) ? s[0]! : "";
    return sign + "0".repeat(n) + s.slice(sign.length);
  }
  return " ".repeat(n) + s;
}

function badVerb(verb: string, v: GoValue): string {
  if (v === null) return `%!${verb}(<nil>)`;
  return `%!${verb}(${typeName(v)}=${formatValue(v)})`;
}

function signed(s: string, neg: boolean, spec: Spec): string {
  if (neg) return "-" + s;
  if (spec.plus) return "+" + s;
  if (spec.space) return " " + s;
  return s;
}

function formatInt(v: bigint, verb: string, spec: Spec): string | undefined {
  const neg = v < 0n;
  const abs = neg ? -v : v;
  let s: string;
  switch (verb) {
    case "d":
    case "v":
      s = abs.toString();
      break;
    case "x":
      s = (spec.sharp ? "0x" : "") + abs.toString(16);
      break;
    case "X":
      s = (spec.sharp ? "0X" : "") + abs.toString(16).toUpperCase();
      break;
    case "o":
      s = (spec.sharp ? "0" : "") + abs.toString(8);
      break;
    case "b":
      s = abs.toString(2);
      break;
    case "c":
      return String.fromCodePoint(Number(v));
    case "q":
      return "'" + goQuote(String.fromCodePoint(Number(v))).slice(1, -1).replace(/\\"/g, '"').replace(/'/g, "\\'") + "'";
    case "e":
    case "f":
    case "g":
      return undefined;
    default:
      return undefined;
  }
  if (spec.prec !== undefined) s = s.padStart(spec.prec, "0");
  return signed(s, neg, spec);
}

function formatFloat(v: number, verb: string, spec: Spec): string | undefined {
  const neg = v < 0 || Object.is(v, -0);
  const a = Math.abs(v);
  let s: string;
  switch (verb) {
    case "v":
    case "g":
      s = spec.prec !== undefined ? formatG(a, spec.prec) : formatFloatShortest(a);
      break;
    case "G":
      s = (spec.prec !== undefined ? formatG(a, spec.prec) : formatFloatShortest(a)).toUpperCase();
      break;
    case "f":
    case "F":
      s = Number.isFinite(a) ? a.toFixed(spec.prec ?? 6) : formatFloatShortest(a);
      break;
    case "e":
    case "E":
      s = formatExp(a, spec.prec ?? 6, verb === "E");
      break;
    default:
      return undefined;
  }
  return signed(s, neg && !Number.isNaN(v), spec);
}

function formatString(s: string, verb: string, spec: Spec): string | undefined {
  switch (verb) {
    case "s":
    case "v":
      return spec.prec !== undefined ? [...s].slice(0, spec.prec).join("") : s;
    case "q":
      if (spec.sharp && !/[`\x00-\x08\x0a-\x1f\x7f]/.test(s)) return "`" + s + "`";
      return goQuote(s);
    case "x":
    case "X": {
      const hex = Buffer.from(s, "utf8").toString("hex");
      return verb === "X" ? hex.toUpperCase() : hex;
    }
    default:
      return undefined;
  }
}

/** One operand under one verb, or Go's %!verb(type=value) complaint. */
function formatOne(v: GoValue, verb: string, spec: Spec): string {
  if (verb === "T") return pad(v === null ? "<nil>" : typeName(v), spec, false);
  if (verb === "v" && v !== null && typeof v === "object") return pad(formatValue(v), spec, false);
  let out: string | undefined;
  if (v !== null && typeof v === "object" && v.str && (verb === "s" || verb === "q")) {
    out = formatString(v.str(), verb, spec);
  } else if (typeof v === "string") out = formatString(v, verb, spec);
  else if (typeof v === "bigint") out = formatInt(v, verb, spec);
  else if (typeof v === "number") out = formatFloat(v, verb, spec);
  else if (typeof v === "boolean") out = verb === "t" || verb === "v" ? String(v) : undefined;
  else if (v === null) out = verb === "v" ? "<nil>" : undefined;
  else if (verb === "s" || verb === "d") {
    // Composites apply the verb element-wise in Go; %s/%d over a list is the common case.
    if (v instanceof GoList) out = `[${v.items.map((x) => formatOne(x, verb, { ...spec, width: undefined })).join(" ")}]`;
  }
  if (out === undefined) return badVerb(verb, v);
  return pad(out, spec, typeof v === "number" || typeof v === "bigint");
}

/** fmt.Sprintf with flags (-+# 0), width, precision (also `*`), and the verbs templates use. */
export function sprintf(format: string, args: GoValue[]): string {
  let out = "";
  let argi = 0;
  let i = 0;
  while (i < format.length) {
    const pct = format.indexOf("%", i);
    if (pct < 0) {
      out += format.slice(i);
      break;
    }
    out += format.slice(i, pct);
    i = pct + 1;
    const spec: Spec = { minus: false, plus: false, sharp: false, space: false, zero: false };
    for (; i < format.length; i++) {
      const c = format[i];
      if (c === "-") spec.minus = true;
      else if (c === "+") spec.plus = true;
      else if (c === "#") spec.sharp = true;
      else if (c === " ") spec.space = true;
      else if (c === "0") spec.zero = !spec.minus;
      else break;
    }
    const num = (): number | undefined => {
      if (format[i] === "*") {
        i++;
        const a = args[argi++];
        return typeof a === "bigint" ? Number(a) : undefined;
      }
      const m = /^\d+/.exec(format.slice(i));
      if (!m) return undefined;
      i += m[0].length;
      return Number(m[0]);
    };
    spec.width = num();
    if (format[i] === ".") {
      i++;
      spec.prec = num() ?? 0;
    }
    if (i >= format.length) {
      out += "%!(NOVERB)";
      break;
    }
    const verb = String.fromCodePoint(format.codePointAt(i)!);
    i += verb.length;
    if (verb === "%") {
      out += "%";
      continue;
    }
    if (argi >= args.length) {
      out += `%!${verb}(MISSING)`;
      continue;
    }
    out += formatOne(args[argi++]!, verb, spec);
  }
  if (argi < args.length) {
    out += "%!(EXTRA " + args.slice(argi).map((a) => (a === null ? "<nil>" : `${typeName(a)}=${formatValue(a)}`)).join(", ") + ")";
  }
  return out;
}
