// keep_alive on the wire as Ollama's Go client writes it: a Go duration string ("5m0s"), or -1
// for "forever" (any negative duration).
import { parseGoDuration } from "../api/duration.js";
import type { KeepAliveWire } from "./client.js";
import { goDuration } from "./format.js";

/** Parses a --keepalive value (Go duration syntax; Go's error text on failure). */
export function keepAliveFlag(value: string | undefined): KeepAliveWire | undefined {
  if (value === undefined || value === "") return undefined;
  return keepAliveWire(parseGoDuration(value));
}

export function keepAliveWire(ms: number): KeepAliveWire {
  return ms < 0 ? -1 : goDuration(Math.round(ms * 1e6));
}
