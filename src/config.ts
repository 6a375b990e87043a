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
  /** Parallel requests per model; 0 = automatic (4 when memory allows, else fewer). */
  numParallel: number;
  /** 0 = automatic. */
  maxLoadedModels: number;
  maxQueue: number;
  /** OLLAMA_LOAD_TIMEOUT in ms: how long a model load may take before it is given up; Infinity = forever. */
  loadTimeout: number;
  /** CORRAL_MEMORY_LIMIT: bytes all loaded models may take together, instead of the machine's free memory (0 = unset). */
  memoryLimit: number;
  /** 0 = automatic. */
  contextLength: number;
  origins: string[];
  debug: boolean;
  noPrune: boolean;
  /** Docker-style credentials file (`{"auths":{"<host>":{"auth":"<base64 user:pass>"}}}`) for registry pulls and pushes. */
  registryAuthFile: string;
  /** Registry hosts reached over plain http even without `insecure` (as a create's `from` pull has no such flag). */
  insecureRegistries: string[];
  /** Which engine runs models: llama.cpp's own server, node-llama-cpp, or the best one available. */
  engine: EngineChoice;
  /** Where built llama.cpp binaries are cached. */
  engineCache: string;
  /** llama.cpp RPC workers (host:port) that share the layers of every loaded model. */
  rpcServers: string[];
  /** OLLAMA_FLASH_ATTENTION: undefined leaves the choice to llama.cpp. */
  flashAttention?: boolean;
  /** OLLAMA_KV_CACHE_TYPE: f16, q8_0 or q4_0. */
  kvCacheType: KvCacheType;
  /** OLLAMA_GPU_OVERHEAD: bytes of GPU memory to leave free. */
  gpuOverhead: number;
  /** OLLAMA_SCHED_SPREAD: spread a model over every GPU rather than fill one. */
  schedSpread: boolean;
  /** OLLAMA_MULTIUSER_CACHE: reuse prompt caches across users less greedily (slots keep their own prefixes). */
  multiuserCache: boolean;
  /** CORRAL_API_KEYS: keys a client must present as `Authorization: Bearer <key>` (empty: no auth). */
  apiKeys: string[];
  /** CORRAL_API_KEYS_FILE: a file of keys, one a line, re-read when it changes and on SIGHUP. */
  apiKeysFile?: string;
  /** CORRAL_TLS_CERT / CORRAL_TLS_KEY: PEM paths; both make the server speak HTTPS. */
  tlsCert?: string;
  tlsKey?: string;
  /** CORRAL_TLS_CA: a PEM path the CLI trusts besides the system CAs. */
  tlsCa?: string;
  /** CORRAL_MAX_JSON_BODY: bytes a JSON request body may have (413 past it). */
  maxJsonBody: number;
  /** CORRAL_BODY_IDLE_TIMEOUT in ms: how long a request body may send nothing before a 408; Infinity = forever. */
  bodyIdleTimeout: number;
  /** CORRAL_API_KEY (else OLLAMA_API_KEY): the key the CLI sends. */
  clientApiKey?: string;
}

export type EngineChoice = "auto" | "llama-server" | "node-llama-cpp";
export type KvCacheType = "f16" | "q8_0" | "q4_0";

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

/** Zero and negative durations mean no limit (Ollama's OLLAMA_LOAD_TIMEOUT). */
function forever(ms: number): number {
  return ms > 0 ? ms : Infinity;
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
    numParallel: parseUint(env.OLLAMA_NUM_PARALLEL, 0),
    maxLoadedModels: parseUint(env.OLLAMA_MAX_LOADED_MODELS, 0),
    maxQueue: parseUint(env.OLLAMA_MAX_QUEUE, 512),
    loadTimeout: forever(parseDurationEnv(env.OLLAMA_LOAD_TIMEOUT, 5 * 60_000)),
    memoryLimit: parseUint(env.CORRAL_MEMORY_LIMIT, 0),
    contextLength: parseUint(env.OLLAMA_CONTEXT_LENGTH, 0),
    origins,
    debug: parseBool(env.OLLAMA_DEBUG),
    noPrune: parseBool(env.OLLAMA_NOPRUNE),
    registryAuthFile: clean(env.CORRAL_REGISTRY_AUTH) || join(homedir(), ".corral", "registry-auth.json"),
    insecureRegistries: list(env.CORRAL_INSECURE_REGISTRIES).map((h) => h.toLowerCase()),
    engine: parseEngine(env.CORRAL_ENGINE),
    engineCache:
      clean(env.CORRAL_ENGINE_CACHE) || join(clean(env.XDG_CACHE_HOME) || join(homedir(), ".cache"), "corral", "llama.cpp"),
    rpcServers: list(env.CORRAL_RPC_SERVERS),
    flashAttention: clean(env.OLLAMA_FLASH_ATTENTION) === "" ? undefined : parseBool(env.OLLAMA_FLASH_ATTENTION),
    kvCacheType: parseKvCacheType(env.OLLAMA_KV_CACHE_TYPE),
    gpuOverhead: parseUint(env.OLLAMA_GPU_OVERHEAD, 0),
    schedSpread: parseBool(env.OLLAMA_SCHED_SPREAD),
    multiuserCache: parseBool(env.OLLAMA_MULTIUSER_CACHE),
    apiKeys: list(env.CORRAL_API_KEYS),
    apiKeysFile: optional(env.CORRAL_API_KEYS_FILE),
    tlsCert: optional(env.CORRAL_TLS_CERT),
    tlsKey: optional(env.CORRAL_TLS_KEY),
    tlsCa: optional(env.CORRAL_TLS_CA),
    maxJsonBody: parseUint(env.CORRAL_MAX_JSON_BODY, 0) || 256 * 1024 * 1024,
    bodyIdleTimeout: forever(parseDurationEnv(env.CORRAL_BODY_IDLE_TIMEOUT, 30_000)),
    clientApiKey: optional(env.CORRAL_API_KEY) ?? optional(env.OLLAMA_API_KEY),
  };
}

/** A value that is absent when unset or empty. */
function optional(v: string | undefined): string | undefined {
  return clean(v) || undefined;
}

function parseEngine(v: string | undefined): EngineChoice {
  const s = clean(v).toLowerCase();
  if (s === "" || s === "auto") return "auto";
  if (s === "llama-server" || s === "node-llama-cpp") return s;
  process.stderr.write(`warning: CORRAL_ENGINE=${JSON.stringify(s)} is not llama-server, node-llama-cpp or auto; using auto\n`);
  return "auto";
}

/** Ollama's accepted KV cache types; anything else falls back to f16, as Ollama does. */
function parseKvCacheType(v: string | undefined): KvCacheType {
  const s = clean(v).toLowerCase();
  return s === "q8_0" || s === "q4_0" ? s : "f16";
}

/** The default num_ctx when neither the request, the model nor OLLAMA_CONTEXT_LENGTH sets one (no GPU: 4096). */
export const DEFAULT_CONTEXT_LENGTH = 4096;
/** OLLAMA_MAX_LOADED_MODELS = 0 means 3 per GPU, 3 on CPU. */
export const DEFAULT_MAX_LOADED_MODELS = 3;
