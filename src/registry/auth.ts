// Registry authentication: the WWW-Authenticate challenge, the Bearer token request it points to, and
// HTTP basic credentials. Credentials and tokens only ever travel in headers, never in URLs or messages.
import type { Credentials } from "./credentials.js";
import { readText, send } from "./http.js";

export interface Challenge {
  /** Lower-case auth scheme: "bearer", "basic", … */
  scheme: string;
  params: Record<string, string>;
}

/** Parses `Bearer realm="…",service="…",scope="…"` (quoted or bare values, backslash escapes). */
export function parseChallenge(header: string | string[] | undefined): Challenge | undefined {
  const all = (Array.isArray(header) ? header : header ? [header] : []).map(parseOne).filter((c) => c !== undefined);
  return all.find((c) => c.scheme === "bearer") ?? all[0];
}

function parseOne(text: string): Challenge | undefined {
  const m = /^\s*([A-Za-z][\w-]*)\s*/.exec(text);
  if (!m) return undefined;
  const params: Record<string, string> = {};
  const re = /([\w-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))\s*,?\s*/y;
  re.lastIndex = m[0].length;
  for (let p = re.exec(text); p; p = re.exec(text)) {
    params[p[1]!.toLowerCase()] = p[2] !== undefined ? p[2].replace(/\\(.)/g, "$1") : p[3]!;
  }
  return { scheme: m[1]!.toLowerCase(), params };
}

export function basicHeader(c: Credentials): string {
  return `Basic ${Buffer.from(`${c.username}:${c.password}`).toString("base64")}`;
}

export interface TokenContext {
  /** host[:port] of the registry that sent the challenge. */
  registryHost: string;
  credentials?: Credentials;
  userAgent: string;
  signal?: AbortSignal;
}

/**
 * Asks the challenge's realm for a token covering its scopes (Docker's token flow). Credentials go
 * along only over https or to the registry's own host name, so a plain-http realm elsewhere never
 * sees them.
 */
export async function fetchToken(ch: Challenge, ctx: TokenContext): Promise<string> {
  const realm = ch.params.realm;
  if (!realm) throw new Error("unauthorized: the registry's challenge names no token realm");
  let url: URL;
  try {
    url = new URL(realm);
  } catch {
    throw new Error(`unauthorized: invalid token realm ${JSON.stringify(realm)}`);
  }
  if (ch.params.service) url.searchParams.append("service", ch.params.service);
  for (const scope of (ch.params.scope ?? "").split(" ").filter(Boolean)) url.searchParams.append("scope", scope);

  const headers: Record<string, string> = { "User-Agent": ctx.userAgent, Accept: "application/json" };
  const registryName = new URL(`http://${ctx.registryHost}`).hostname.toLowerCase();
  const safe = url.protocol === "https:" || url.hostname.toLowerCase() === registryName;
  if (ctx.credentials && safe) headers.Authorization = basicHeader(ctx.credentials);

  const res = await send({ method: "GET", url, headers, signal: ctx.signal });
  const body = await readText(res);
  if ((res.statusCode ?? 0) >= 400) throw Object.assign(new Error(`${res.statusCode}: ${body.trim()}`), { status: res.statusCode });
  let token: unknown;
  try {
    const json = JSON.parse(body) as { token?: unknown; access_token?: unknown };
    token = json.token || json.access_token;
  } catch {
    token = undefined;
  }
  if (typeof token !== "string" || !token) throw new Error("unauthorized: the token server sent no token");
  return token;
}
