// CORS (spec §1.2) and the Host-header check against DNS rebinding (§1.3), as one onRequest hook.
import { hostname, networkInterfaces } from "node:os";
import type { FastifyReply, FastifyRequest } from "fastify";
import type { Config } from "../config.js";
import { isLoopback, isPrivate, isUnspecified, parseIp, sameIp, type IpAddr } from "./ip.js";

const DEFAULT_ORIGINS = [
  ...["localhost", "127.0.0.1", "0.0.0.0"].flatMap((h) => [`http://${h}`, `https://${h}`, `http://${h}:*`, `https://${h}:*`]),
  "app://*", "file://*", "tauri://*", "vscode-webview://*", "vscode-file://*",
];

const ALLOWED_HEADERS = [
  "Authorization", "Content-Type", "User-Agent", "Accept", "X-Requested-With", "OpenAI-Beta",
  ...["arch", "async", "custom-poll-interval", "helper-method", "lang", "os", "package-version", "poll-helper",
    "retry-count", "runtime", "runtime-version", "timeout"].map((h) => `x-stainless-${h}`),
].join(", ");

function originMatcher(patterns: string[]): (origin: string) => boolean {
  if (patterns.includes("*")) return () => true;
  const regexes = patterns.map(
    (p) => new RegExp(`^${p.split("*").map((s) => s.replace(/[.+?^${}()|[\]\\/]/g, "\\$&")).join(".*")}$`, "i"),
  );
  return (origin) => regexes.some((r) => r.test(origin));
}

export function isLoopbackHost(host: string): boolean {
  if (host === "localhost") return true;
  const ip = parseIp(host);
  return ip !== undefined && isLoopback(ip);
}

/** An address of one of this machine's interfaces (zones never match, as in Ollama). */
function isLocalIp(ip: IpAddr): boolean {
  return Object.values(networkInterfaces()).some((list) =>
    list?.some((a) => {
      const own = parseIp(a.address.replace(/%.*$/, ""));
      return own !== undefined && sameIp(own, ip);
    }),
  );
}

/**
 * Ollama's Host check for a loopback-bound server (DNS rebinding): the host part of the header
 * (the whole header when it has no port, so a bare `[::1]` is refused) must be an IP literal that
 * is loopback, private, unspecified or this machine's, or localhost, the hostname, or a name under
 * .localhost, .local or .internal. "name" marks an allowed name (not an IP).
 */
export function hostVerdict(hostHeader: string | undefined): "ip" | "name" | "deny" {
  const header = hostHeader ?? "";
  const host = splitHostPort(header) ?? header;
  const ip = parseIp(host);
  if (ip && (isLoopback(ip) || isPrivate(ip) || isUnspecified(ip) || isLocalIp(ip))) return "ip";
  const name = host.toLowerCase();
  if (name === "" || name === "localhost" || name === hostname().toLowerCase()) return "name";
  return [".localhost", ".local", ".internal"].some((s) => name.endsWith(s)) ? "name" : "deny";
}

/** Go's net.SplitHostPort, host part only: undefined where it fails (no port, too many colons). */
function splitHostPort(hostport: string): string | undefined {
  const v6 = /^\[([^[\]]*)\]:[^:[\]]*$/.exec(hostport);
  if (v6) return v6[1];
  if (hostport.startsWith("[")) return undefined;
  const colon = hostport.indexOf(":");
  if (colon < 0 || hostport.indexOf(":", colon + 1) >= 0) return undefined;
  return /[[\]]/.test(hostport) ? undefined : hostport.slice(0, colon);
}

export function corsHook(config: Config) {
  const allowed = originMatcher([...config.origins, ...DEFAULT_ORIGINS]);
  const allowAll = config.origins.includes("*");
  const checkHost = isLoopbackHost(config.host.host);
  // CORS runs first, then the Host check, as in Ollama: a valid preflight is answered before it.
  return async (request: FastifyRequest, reply: FastifyReply) => {
    const origin = request.headers.origin;
    const host = request.headers.host ?? "";
    if (origin && origin !== `http://${host}` && origin !== `https://${host}`) {
      if (!allowed(origin)) return reply.code(403).send();
      reply.header("Access-Control-Allow-Origin", allowAll ? "*" : origin);
      reply.header("Vary", "Origin");
      if (request.method === "OPTIONS") {
        reply.header("Access-Control-Allow-Methods", "GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS");
        reply.header("Access-Control-Allow-Headers", ALLOWED_HEADERS);
        reply.header("Access-Control-Max-Age", String(12 * 3600));
        return reply.code(204).send();
      }
    }
    if (!checkHost) return;
    const verdict = hostVerdict(request.headers.host);
    if (verdict === "deny") return reply.code(403).send();
    // Ollama answers any other OPTIONS to an allowed host name itself.
    if (verdict === "name" && request.method === "OPTIONS") return reply.code(204).send();
  };
}
