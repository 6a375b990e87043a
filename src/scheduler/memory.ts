// How much memory a model needs before it is loaded (weights plus the KV cache of every slot), how
// much the machine has to give, and Ollama's error when a model cannot fit.
import { readFileSync } from "node:fs";
import { freemem } from "node:os";
import { ApiError } from "../api/errors.js";
import type { LoadParams } from "../runner/protocol.js";

export interface MemoryInputs {
  /** Bytes of the weights files (model, adapters, draft). */
  weightsBytes: number;
  /** Bytes of f16 KV cache one token of context takes. */
  kvBytesPerToken: number;
  /** Context per slot (num_ctx). */
  contextSize: number;
  /** Slots, each with its own context. */
  parallel: number;
  kvCacheType?: "f16" | "q8_0" | "q4_0";
}

// Bytes per 32 cached values relative to f16 (64 bytes): q8_0 blocks are 34 bytes, q4_0 blocks 18.
const KV_TYPE_SHARE = { f16: 1, q8_0: 34 / 64, q4_0: 18 / 64 } as const;

/** Weights plus the KV cache of every slot, in bytes. */
export function estimateMemory(m: MemoryInputs): number {
  const kv = m.kvBytesPerToken * KV_TYPE_SHARE[m.kvCacheType ?? "f16"] * m.contextSize * Math.max(1, m.parallel);
  return Math.ceil(m.weightsBytes + kv);
}

/** The estimate for a runner's settings, the weights counted as the files it maps. */
export function estimateLoad(params: LoadParams, kvBytesPerToken: number, fileBytes: (path: string) => number): number {
  const files = [params.modelPath, ...params.adapters.map((a) => a.path)];
  if (params.llamaServer?.draft) files.push(params.llamaServer.draft.path);
  if (params.projectorPath) files.push(params.projectorPath);
  return estimateMemory({
    weightsBytes: files.reduce((sum, f) => sum + fileBytes(f), 0),
    kvBytesPerToken,
    contextSize: params.contextSize,
    parallel: params.parallel,
    kvCacheType: params.llamaServer?.kvCacheType,
  });
}

/**
 * Whether llama.cpp may place (part of) the model on a GPU. Such a load needs less system memory than
 * the estimate, and how much less only llama.cpp knows, so system memory does not gate it.
 */
export function offloadsToGpu(params: LoadParams): boolean {
  const ls = params.llamaServer;
  return !!ls && (ls.gpuAvailable || ls.rpcServers.length > 0) && ls.gpuLayers !== 0;
}

function readNumber(path: string): number | undefined {
  try {
    const s = readFileSync(path, "utf8").trim();
    return /^\d+$/.test(s) ? Number(s) : undefined;
  } catch {
    return undefined;
  }
}

/** Bytes left under this process's cgroup memory limit (v2, else v1), if it has one. */
function cgroupFree(): number | undefined {
  const v2 = readNumber("/sys/fs/cgroup/memory.max");
  if (v2 !== undefined) return Math.max(0, v2 - (readNumber("/sys/fs/cgroup/memory.current") ?? 0));
  const v1 = readNumber("/sys/fs/cgroup/memory/memory.limit_in_bytes");
  // v1 reports "no limit" as a huge page-rounded number.
  if (v1 !== undefined && v1 < 2 ** 60) return Math.max(0, v1 - (readNumber("/sys/fs/cgroup/memory/memory.usage_in_bytes") ?? 0));
  return undefined;
}

/** Memory a new model may take now: available RAM plus free swap (as Ollama counts it on Linux), capped by the cgroup. */
export function systemAvailableMemory(): number {
  let free = freemem();
  try {
    const info = readFileSync("/proc/meminfo", "utf8");
    const kib = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(info)?.[1] ?? NaN) * 1024;
    const available = kib("MemAvailable");
    if (Number.isFinite(available)) free = available + (kib("SwapFree") || 0);
  } catch {
    // Not Linux: os.freemem() is the best there is.
  }
  const cgroup = cgroupFree();
  return cgroup === undefined ? free : Math.min(free, cgroup);
}

/** Go's %.1f: an exact tie rounds to even (toFixed would round it up). */
function oneDecimal(v: number): string {
  const x = v * 10;
  const down = Math.floor(x);
  const tenths = x - down === 0.5 ? down + (down % 2) : Math.round(x);
  return (tenths / 10).toFixed(1);
}

/** Go's format.HumanBytes2: binary units, one decimal. */
export function humanBytes2(b: number): string {
  if (b >= 2 ** 30) return `${oneDecimal(b / 2 ** 30)} GiB`;
  if (b >= 2 ** 20) return `${oneDecimal(b / 2 ** 20)} MiB`;
  if (b >= 2 ** 10) return `${oneDecimal(b / 2 ** 10)} KiB`;
  return `${Math.max(0, Math.floor(b))} B`;
}

/** Ollama's answer (500) when a model needs more memory than the machine has, even with every other model unloaded. */
export function tooLarge(required: number, available: number): ApiError {
  return new ApiError(500, `model requires more system memory (${humanBytes2(required)}) than is available (${humanBytes2(available)})`);
}
