// Go fmt's printing of JSON-decoded values (float64, string, bool, []any), as /api/show and the
// Modelfile render parameters.

/** strconv.FormatFloat(x, 'g', -1, 64): shortest digits; exponent form when the exponent is < -4 or >= 6. */
export function goFloat(x: number): string {
  if (!Number.isFinite(x)) return Number.isNaN(x) ? "NaN" : x > 0 ? "+Inf" : "-Inf";
  if (x === 0) return Object.is(x, -0) ? "-0" : "0";
  const [mant, expText] = x.toExponential().split("e") as [string, string];
  const exp = Number(expText);
  if (exp < -4 || exp >= 6) {
    const e = Math.abs(exp) < 10 ? `0${Math.abs(exp)}` : String(Math.abs(exp));
    return `${mant}e${exp < 0 ? "-" : "+"}${e}`;
  }
  return String(x);
}

/** %v of a value decoded from JSON. */
export function goValue(v: unknown): string {
  if (typeof v === "number") return goFloat(v);
  if (typeof v === "string") return v;
  if (Array.isArray(v)) return `[${v.map(goValue).join(" ")}]`;
  return String(v);
}

/** %#v: strings double-quoted with Go escapes. */
export function goSharpValue(v: unknown): string {
  if (typeof v === "string") return goQuote(v);
  return goValue(v);
}

export function goQuote(s: string): string {
  return JSON.stringify(s).replace(/\\u007f/g, "\\x7f");
}
