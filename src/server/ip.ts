// IP address literals as bytes, with the classifications Go's net/netip makes (loopback, private,
// unspecified), so the Host check decides exactly as Ollama does.
import { isIPv4, isIPv6 } from "node:net";

export interface IpAddr {
  /** 4 bytes for IPv4, 16 for IPv6. */
  bytes: number[];
  zone: string;
}

function v4Bytes(s: string): number[] {
  return s.split(".").map(Number);
}

/** Parses an IPv4 or IPv6 literal (an IPv6 zone kept apart); undefined for anything else. */
export function parseIp(text: string): IpAddr | undefined {
  if (isIPv4(text)) return { bytes: v4Bytes(text), zone: "" };
  const pct = text.indexOf("%");
  const addr = pct < 0 ? text : text.slice(0, pct);
  const zone = pct < 0 ? "" : text.slice(pct + 1);
  if (!isIPv6(addr) || (pct >= 0 && zone === "")) return undefined;
  // A dotted IPv4 tail becomes its two hex groups.
  const hex = addr.replace(/(\d+)\.(\d+)\.(\d+)\.(\d+)$/, (_, a, b, c, d) =>
    `${((+a << 8) | +b).toString(16)}:${((+c << 8) | +d).toString(16)}`,
  );
  const groups = (s: string) => (s === "" ? [] : s.split(":").map((g) => parseInt(g, 16)));
  const gap = hex.indexOf("::");
  const words =
    gap < 0
      ? groups(hex)
      : (() => {
          const l = groups(hex.slice(0, gap));
          const r = groups(hex.slice(gap + 2));
          return [...l, ...Array<number>(8 - l.length - r.length).fill(0), ...r];
        })();
  const bytes = words.flatMap((w) => [w >> 8, w & 0xff]);
  return bytes.length === 16 ? { bytes, zone } : undefined;
}

/** The IPv4 address inside an IPv4-mapped IPv6 one (::ffff:a.b.c.d), else the address itself. */
export function unmap(ip: IpAddr): IpAddr {
  const b = ip.bytes;
  const mapped = b.length === 16 && b.slice(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff;
  return mapped ? { bytes: b.slice(12), zone: "" } : ip;
}

export function isLoopback(ip: IpAddr): boolean {
  const b = unmap(ip).bytes;
  return b.length === 4 ? b[0] === 127 : b.slice(0, 15).every((x) => x === 0) && b[15] === 1;
}

export function isPrivate(ip: IpAddr): boolean {
  const b = unmap(ip).bytes;
  if (b.length === 16) return (b[0]! & 0xfe) === 0xfc;
  return b[0] === 10 || (b[0] === 172 && (b[1]! & 0xf0) === 16) || (b[0] === 192 && b[1] === 168);
}

/** 0.0.0.0 or :: exactly (Go does not unmap here). */
export function isUnspecified(ip: IpAddr): boolean {
  return ip.zone === "" && ip.bytes.every((x) => x === 0);
}

export function sameIp(a: IpAddr, b: IpAddr): boolean {
  return a.zone === b.zone && a.bytes.length === b.bytes.length && a.bytes.every((x, i) => x === b.bytes[i]);
}
