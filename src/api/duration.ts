// Go duration syntax (time.ParseDuration) and Ollama's keep_alive field.
import { ApiError } from "./errors.js";

const UNIT_MS: Record<string, number> = {
  ns: 1e-6, us: 1e-3, "\u00b5s": 1e-3, "\u03bcs": 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000,
};

/** Parses a Go duration string into milliseconds; throws Go's error text. */
export function parseGoDuration(s: string): number {
  const quoted = JSON.stringify(s);
  let rest = s;
  let sign = 1;
  if (rest.startsWith("-") || rest.startsWith("+")) {
    if (rest[0] === "-") sign = -1;
    rest = rest.slice(1);
  }
  if (rest === "0") return 0;
  if (rest === "") throw new Error(`time: invalid duration ${quoted}`);
  let total = 0;
  while (rest !== "") {
    const num = /^(\d*)(\.\d*)?/.exec(rest)!;
    if (num[0] === "" || num[0] === ".") throw new Error(`time: invalid duration ${quoted}`);
    rest = rest.slice(num[0].length);
    const unit = /^[^\d.]*/.exec(rest)![0];
    if (unit === "") throw new Error(`time: missing unit in duration ${quoted}`);
    const ms = UNIT_MS[unit];
    if (ms === undefined) throw new Error(`time: unknown unit ${JSON.stringify(unit)} in duration ${quoted}`);
    total += parseFloat(num[0]) * ms;
    rest = rest.slice(unit.length);
  }
  return sign * total;
}

/** keep_alive in milliseconds; Infinity means "forever". */
export type KeepAlive = number;

/** Decodes the `keep_alive` request field: seconds as a number, a Go duration as a string; negative = forever. */
export function decodeKeepAlive(v: unknown): KeepAlive | undefined {
  if (v === null || v === undefined) return undefined;
  let ms: number;
  if (typeof v === "number") ms = v * 1000;
  else if (typeof v === "string") {
    try {
      ms = parseGoDuration(v);
    } catch (e) {
      throw new ApiError(400, (e as Error).message);
    }
  } else {
    const goType = typeof v === "boolean" ? "bool" : Array.isArray(v) ? "[]interface {}" : "map[string]interface {}";
    throw new ApiError(400, `Unsupported type: '${goType}'`);
  }
  return ms < 0 ? Infinity : ms;
}

/** Formats milliseconds like Go's Duration.String (e.g. "5m0s"), for logs and the CLI. */
export function formatGoDuration(ms: number): string {
  if (!Number.isFinite(ms)) return "2562047h47m16.854775807s";
  if (ms === 0) return "0s";
  const neg = ms < 0;
  let s = Math.abs(ms) / 1000;
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  const secs = `${Number(s.toFixed(9))}s`;
  return (neg ? "-" : "") + (h ? `${h}h` : "") + (h || m ? `${m}m` : "") + secs;
}
