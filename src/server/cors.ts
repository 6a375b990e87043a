// CORS (spec §1.2) and the Host-header check against DNS rebinding (§1.3), as one onRequest hook.
import { hostname, networkInterfaces } from "node:os";
import { isIP } from "node:net";
import type { FastifyReply, FastifyRequest } from "fastify";
import type { Config } from "../config.js";

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
  return host === "localhost" || host === "::1" || /^127\./.test(host);
}

function isPrivateOrLocalIp(ip: string): boolean {
  if (isLoopbackHost(ip) || ip === "0.0.0.0" || ip === "::") return true;
  if (/^10\./.test(ip) || /^192\.168\./.test(ip) || /^172\.(1[6-9]|2\d|3[01])\./.test(ip)) return true;
  if (/^f[cd][0-9a-f]{2}:/i.test(ip)) return true;
  return Object.values(networkInterfaces()).some((list) => list?.some((a) => a.address === ip));
}

/** Hosts a loopback-bound server answers to. */
function allowedHost(hostHeader: string | undefined): boolean {
  if (!hostHeader) return true;
  let host = hostHeader.toLowerCase();
  const v6 = /^\[([^\]]+)\](:\d+)?$/.exec(host);
  if (v6) host = v6[1]!;
  else host = host.replace(/:\d+$/, "");
  if (host === "" || host === "localhost" || host === hostname().toLowerCase()) return true;
  if (isIP(host)) return isPrivateOrLocalIp(host);
  return [".localhost", ".local", ".internal"].some((s) => host.endsWith(s));
}

export function corsHook(config: Config) {
  const allowed = originMatcher([...config.origins, ...DEFAULT_ORIGINS]);
  const allowAll = config.origins.includes("*");
  const checkHost = isLoopbackHost(config.host.host);
  return async (request: FastifyRequest, reply: FastifyReply) => {
    if (checkHost && !allowedHost(request.headers.host)) return reply.code(403).send();
    const origin = request.headers.origin;
    if (!origin) return;
    const host = request.headers.host ?? "";
    if (origin === `http://${host}` || origin === `https://${host}`) return;
    if (!allowed(origin)) return reply.code(403).send();
    reply.header("Access-Control-Allow-Origin", allowAll ? "*" : origin);
    reply.header("Vary", "Origin");
    if (request.method === "OPTIONS") {
      reply.header("Access-Control-Allow-Methods", "GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS");
      reply.header("Access-Control-Allow-Headers", ALLOWED_HEADERS);
      reply.header("Access-Control-Max-Age", String(12 * 3600));
      return reply.code(204).send();
    }
  };
}
