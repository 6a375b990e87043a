// Every environment variable corral reads, parsed once and typed (Ollama's names and meanings).
import { readFileSync } from "node:fs";
import { homedir, availableParallelism } from "node:os";
import { join } from "node:path";
import { parseGoDuration } from "./api/duration.js";

export interface HostAddress {
  scheme: "http" | "https";
  host: string;
  port: number;
}

export interface Config {
  host: HostAddress;
  models: string;
  /** Default idle timeout in ms; Infinity = forever. */
  keepAlive: number;
  numParallel: number;
  /** 0 = automatic. */
  maxLoadedModels: number;
  maxQueue: number;
  /** 0 = automatic. */
  contextLength: number;
  origins: string[];
  debug: boolean;
  noPrune: boolean;
  /** Docker-style credentials file (`{"auths":{"<host>":{"auth":"<base64 user:pass>"}}}`) for registry pulls and pushes. */
  registryAuthFile: string;
  /** Registry hosts reached over plain http even without `insecure` (as a create's `from` pull has no such flag). */
  insecureRegistries: string[];
}

type Env = Record<string, string | undefined>;

function clean(v: string | undefined): string {
  return (v ?? "").trim().replace(/^["']+|["']+$/g, "").trim();
}

/** Go strconv.ParseBool semantics; an unparsable non-empty value counts as true (as Ollama does). */
function parseBool(v: string | undefined): boolean {
  const s = clean(v);
  if (s === "") return false;
  if (["0", "f", "F", "false", "FALSE", "False"].includes(s)) return false;
  return true;
}

function parseUint(v: string | undefined, def: number): number {
  const s = clean(v);
  if (s === "") return def;
  if (!/^\d+$/.test(s)) {
    process.stderr.write(`warning: invalid integer ${JSON.stringify(s)}, using ${def}\n`);
    return def;
  }
  return Number(s);
}

/** A Go duration or integer seconds; negative means forever. */
function parseDurationEnv(v: string | undefined, defMs: number): number {
  const s = clean(v);
  if (s === "") return defMs;
  let ms: number;
  if (/^-?\d+$/.test(s)) ms = Number(s) * 1000;
  else {
    try {
      ms = parseGoDuration(s);
    } catch {
      return defMs;
    }
  }
  return ms < 0 ? Infinity : ms;
}

/** OLLAMA_HOST forms: host, host:port, :port, [v6]:port, scheme://host[:port][/path]. */
export function parseHost(v: string | undefined): HostAddress {
  let s = clean(v);
  let scheme: "http" | "https" = "http";
  let defaultPort = 11434;
  const m = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\/(.*)$/.exec(s);
  if (m) {
    scheme = m[1]!.toLowerCase() === "https" ? "https" : "http";
    defaultPort = scheme === "https" ? 443 : 80;
    s = m[2]!;
  } else if (s === "ollama.com") {
    return { scheme: "https", host: "ollama.com", port: 443 };
  }
  s = s.replace(/\/.*$/, "");
  let host = s;
  let portText = "";
  const v6 = /^\[([^\]]*)\](?::(.*))?$/.exec(s);
  if (v6) {
    host = v6[1]!;
    portText = v6[2] ?? "";
  } else {
    const i = s.lastIndexOf(":");
    if (i >= 0 && s.indexOf(":") === i) {
      host = s.slice(0, i);
      portText = s.slice(i + 1);
    }
  }
  if (host === "") host = m ? "127.0.0.1" : s.startsWith(":") ? "0.0.0.0" : "127.0.0.1";
  let port = defaultPort;
  if (portText !== "") {
    const p = Number(portText);
    port = Number.isInteger(p) && p >= 0 && p <= 65535 ? p : defaultPort;
  }
  return { scheme, host, port };
}

/**
 * Physical cores this process may use: distinct (package, core) pairs in /proc/cpuinfo, capped by
 * the CPUs we are allowed to run on and any cgroup quota. llama.cpp threads spin-wait, so going
 * past the physical cores only slows it down.
 */
export function physicalCores(): number {
  const allowed = availableParallelism();
  let physical = allowed;
  try {
    const info = readFileSync("/proc/cpuinfo", "utf8");
    const cores = new Set<string>();
    for (const block of info.split(/\n\s*\n/)) {
      const pkg = /physical id\s*:\s*(\d+)/.exec(block)?.[1];
      const core = /core id\s*:\s*(\d+)/.exec(block)?.[1];
      if (pkg !== undefined && core !== undefined) cores.add(`${pkg}:${core}`);
    }
    if (cores.size > 0) physical = cores.size;
  } catch {
    // Not Linux: fall back to the logical count.
  }
  let quota = Infinity;
  try {
    const [max, period] = readFileSync("/sys/fs/cgroup/cpu.max", "utf8").trim().split(/\s+/);
    if (max !== "max") quota = Math.max(1, Math.floor(Number(max) / Number(period)));
  } catch {
    // No cgroup v2 quota.
  }
  return Math.max(1, Math.min(physical, allowed, quota));
}

/** A comma-separated list, entries trimmed, empty ones dropped. */
function list(v: string | undefined): string[] {
  return clean(v)
    .split(",")
    .map((o) => o.trim())
    .filter(Boolean);
}

export function loadConfig(env: Env = process.env): Config {
  const origins = list(env.OLLAMA_ORIGINS);
  return {
    host: parseHost(env.OLLAMA_HOST),
    models: clean(env.OLLAMA_MODELS) || join(homedir(), ".corral", "models"),
    keepAlive: parseDurationEnv(env.OLLAMA_KEEP_ALIVE, 5 * 60_000),
    numParallel: Math.max(1, parseUint(env.OLLAMA_NUM_PARALLEL, 1)),
    maxLoadedModels: parseUint(env.OLLAMA_MAX_LOADED_MODELS, 0),
    maxQueue: parseUint(env.OLLAMA_MAX_QUEUE, 512),
    contextLength: parseUint(env.OLLAMA_CONTEXT_LENGTH, 0),
    origins,
    debug: parseBool(env.OLLAMA_DEBUG),
    noPrune: parseBool(env.OLLAMA_NOPRUNE),
    registryAuthFile: clean(env.CORRAL_REGISTRY_AUTH) || join(homedir(), ".corral", "registry-auth.json"),
    insecureRegistries: list(env.CORRAL_INSECURE_REGISTRIES).map((h) => h.toLowerCase()),
  };
}

/** The default num_ctx when neither the request, the model nor OLLAMA_CONTEXT_LENGTH sets one (no GPU: 4096). */
export const DEFAULT_CONTEXT_LENGTH = 4096;
/** OLLAMA_MAX_LOADED_MODELS = 0 means 3 per GPU, 3 on CPU. */
export const DEFAULT_MAX_LOADED_MODELS = 3;
