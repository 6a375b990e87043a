// Registry credentials from a Docker-style file: {"auths":{"<host>":{"auth":"<base64 user:pass>"}}}
// (or "username"/"password" in place of "auth"). Keys may be written as URLs; only the host counts.
import { readFile } from "node:fs/promises";

export interface Credentials {
  username: string;
  password: string;
}

/** `https://Host:5000/v1/` → `host:5000`. */
function hostKey(key: string): string {
  return key.replace(/^[a-z]+:\/\//i, "").replace(/\/.*$/, "").toLowerCase();
}

function entryCredentials(v: unknown): Credentials | undefined {
  const e = v as { auth?: unknown; username?: unknown; password?: unknown } | null;
  if (!e || typeof e !== "object") return undefined;
  if (typeof e.auth === "string" && e.auth) {
    const plain = Buffer.from(e.auth, "base64").toString("utf8");
    const i = plain.indexOf(":");
    if (i > 0) return { username: plain.slice(0, i), password: plain.slice(i + 1) };
  }
  if (typeof e.username === "string" && e.username && typeof e.password === "string") {
    return { username: e.username, password: e.password };
  }
  return undefined;
}

/**
 * The credentials configured for `host` (`name:port` as in model names), or undefined. A missing
 * file means none; an unreadable one is reported without its contents.
 */
export async function credentialsFor(file: string, host: string): Promise<Credentials | undefined> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new Error(`reading registry credentials ${file}: ${(e as NodeJS.ErrnoException).code ?? "error"}`);
  }
  let auths: Record<string, unknown>;
  try {
    auths = ((JSON.parse(text) as { auths?: Record<string, unknown> }).auths ?? {}) as Record<string, unknown>;
  } catch {
    throw new Error(`registry credentials ${file} are not valid JSON`);
  }
  const want = host.toLowerCase();
  for (const [key, value] of Object.entries(auths)) {
    if (hostKey(key) === want) return entryCredentials(value);
  }
  return undefined;
}
