// Where built llama.cpp binaries live: one folder per (source commit, build flavour, CPU) under the
// engine cache, made whole by a rename, so a folder that exists is a finished build.
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { detectGpu } from "./gpu.js";
import { llamaSource } from "./source.js";

/** The binaries a build provides. */
export const ENGINE_TOOLS = ["llama-server", "llama-bench", "rpc-server"] as const;
export type EngineTool = (typeof ENGINE_TOOLS)[number];

/** What a build is: CPU only, or with the CUDA backend (built where nvcc is present). */
export type Flavour = "cpu" | "cuda";

export interface EngineBuild {
  dir: string;
  key: string;
  flavour: Flavour;
  commit: string;
  tag: string;
  /** Seconds the build took. */
  seconds: number;
  builtAt: string;
  bin(tool: EngineTool): string;
}

/** The flavour this machine builds: CUDA when it has an NVIDIA GPU and nvcc, else CPU. */
export function machineFlavour(): Flavour {
  const gpu = detectGpu();
  return gpu.nvidia && gpu.nvcc ? "cuda" : "cpu";
}

let cpuTagCache: string | undefined;

/** CPU builds are tuned to the build machine (GGML_NATIVE), so its instruction set is part of the key (read once: every load asks). */
function cpuTag(): string {
  if (cpuTagCache) return cpuTagCache;
  let flags = "";
  try {
    flags = /^flags\s*:(.*)$/m.exec(readFileSync("/proc/cpuinfo", "utf8"))?.[1]?.trim() ?? "";
  } catch {
    // Not Linux: the architecture alone.
  }
  cpuTagCache = createHash("sha256").update(`${process.arch} ${flags}`).digest("hex").slice(0, 8);
  return cpuTagCache;
}

export function buildKey(flavour: Flavour = machineFlavour()): string {
  const source = llamaSource();
  return `${source.commit.slice(0, 7)}-p${source.patchHash}-${flavour}-${cpuTag()}`;
}

/** The finished build for this machine in the cache, if any. */
export function findBuild(cacheRoot: string, flavour: Flavour = machineFlavour()): EngineBuild | undefined {
  const key = buildKey(flavour);
  const dir = join(cacheRoot, key);
  const stampPath = join(dir, "build.json");
  if (!existsSync(stampPath)) return undefined;
  try {
    const stamp = JSON.parse(readFileSync(stampPath, "utf8")) as Omit<EngineBuild, "dir" | "key" | "bin">;
    const bin = (tool: EngineTool) => join(dir, "bin", tool);
    if (!ENGINE_TOOLS.every((t) => existsSync(bin(t)))) return undefined;
    return { ...stamp, dir, key, bin };
  } catch {
    return undefined;
  }
}
