// How the CLI prints sizes, counts, times and numbers: Ollama's conventions (decimal units,
// relative times, Go's duration and %g notations), so output reads the same as `ollama`'s.

const KB = 1000;
const MB = KB * 1000;
const GB = MB * 1000;
const TB = GB * 1000;

/** 1000-based units: whole or >= 10 prints as a truncated integer, else one decimal ("2.0 GB", "42 GB"). */
export function humanBytes(b: number): string {
  let value: number;
  let unit: string;
  if (b >= TB) [value, unit] = [b / TB, "TB"];
  else if (b >= GB) [value, unit] = [b / GB, "GB"];
  else if (b >= MB) [value, unit] = [b / MB, "MB"];
  else if (b >= KB) [value, unit] = [b / KB, "KB"];
  else return `${Math.trunc(b)} B`;
  if (value >= 10 || value === Math.trunc(value)) return `${Math.trunc(value)} ${unit}`;
  return `${value.toFixed(1)} ${unit}`;
}

/** Parameter counts: 7B, 1.5B, 133.70M, 293K. */
export function humanNumber(n: number): string {
  if (n >= 1e9) {
    const v = n / 1e9;
    return v === Math.floor(v) ? `${v.toFixed(0)}B` : `${v.toFixed(1)}B`;
  }
  if (n >= 1e6) {
    const v = n / 1e6;
    return v === Math.floor(v) ? `${v.toFixed(0)}M` : `${v.toFixed(2)}M`;
  }
  if (n >= 1e3) return `${(n / 1e3).toFixed(0)}K`;
  return String(Math.trunc(n));
}

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

/** An approximate duration: "Less than a second", "About a minute", "3 days", ... */
export function humanDuration(ms: number): string {
  const seconds = Math.trunc(ms / SECOND);
  if (seconds < 1) return "Less than a second";
  if (seconds === 1) return "1 second";
  if (seconds < 60) return `${seconds} seconds`;
  const minutes = Math.trunc(ms / MINUTE);
  if (minutes === 1) return "About a minute";
  if (minutes < 60) return `${minutes} minutes`;
  const hours = Math.round(ms / HOUR);
  if (hours === 1) return "About an hour";
  if (hours < 48) return `${hours} hours`;
  if (hours < 24 * 7 * 2) return `${Math.trunc(hours / 24)} days`;
  if (hours < 24 * 30 * 2) return `${Math.trunc(hours / 24 / 7)} weeks`;
  if (hours < 24 * 365 * 2) return `${Math.trunc(hours / 24 / 30)} months`;
  return `${Math.trunc(Math.trunc(ms / HOUR) / 24 / 365)} years`;
}

/** A time relative to now: "2 days ago", "4 minutes from now", "Forever" (> 20 years ahead). */
export function humanTime(t: Date | undefined, zeroValue: string, now = Date.now()): string {
  if (!t || Number.isNaN(t.getTime()) || t.getUTCFullYear() <= 1) return zeroValue;
  const delta = now - t.getTime();
  if (Math.trunc(Math.trunc(delta / HOUR) / 24 / 365) < -20) return "Forever";
  if (delta < 0) return `${humanDuration(-delta)} from now`;
  return `${humanDuration(delta)} ago`;
}

/** Go's time.Duration.String for a nanosecond count: "1.234567s", "12.3ms", "1m2.5s", "0s". */
export function goDuration(ns: number): string {
  ns = Math.trunc(ns);
  if (ns === 0) return "0s";
  const sign = ns < 0 ? "-" : "";
  const u = Math.abs(ns);
  const frac = (n: number, digits: number) => {
    const whole = Math.trunc(n / 10 ** digits);
    const rest = String(n % 10 ** digits).padStart(digits, "0").replace(/0+$/, "");
    return rest ? `${whole}.${rest}` : String(whole);
  };
  if (u < 1e3) return `${sign}${u}ns`;
  if (u < 1e6) return `${sign}${frac(u, 3)}\u00b5s`;
  if (u < 1e9) return `${sign}${frac(u, 6)}ms`;
  const h = Math.trunc(u / 3.6e12);
  const m = Math.trunc((u % 3.6e12) / 6e10);
  const s = frac(u % 6e10, 9);
  if (h > 0) return `${sign}${h}h${m}m${s}s`;
  if (m > 0) return `${sign}${m}m${s}s`;
  return `${sign}${s}s`;
}

/** Go's %v of a float64: shortest digits, exponent form when the exponent is < -4 or >= 6 (8e+09). */
export function goFloat(x: number): string {
  if (!Number.isFinite(x)) return Number.isNaN(x) ? "NaN" : x > 0 ? "+Inf" : "-Inf";
  if (x === 0) return Object.is(x, -0) ? "-0" : "0";
  const [mant, expText] = x.toExponential().split("e") as [string, string];
  const exp = Number(expText);
  if (exp < -4 || exp >= 6) return `${mant}e${exp < 0 ? "-" : "+"}${String(Math.abs(exp)).padStart(2, "0")}`;
  return String(x);
}

/** The shortest decimal that reads back as the same float32, as Go prints float32 values (0.7, not 0.699999988). */
export function shortestFloat32(x: number): number {
  const f = Math.fround(x);
  if (!Number.isFinite(f) || f === 0) return f;
  for (let p = 1; p <= 9; p++) {
    const candidate = Number(f.toPrecision(p));
    if (Math.fround(candidate) === f) return candidate;
  }
  return f;
}

/** Go's %v of a value decoded from JSON. */
export function goValue(v: unknown): string {
  if (typeof v === "number") return goFloat(v);
  if (Array.isArray(v)) return `[${v.map(goValue).join(" ")}]`;
  if (v === null || v === undefined) return "<nil>";
  if (typeof v === "object") return `map[${Object.entries(v).map(([k, x]) => `${k}:${goValue(x)}`).join(" ")}]`;
  return String(v);
}
