// What accelerators this machine has, as far as building and running llama.cpp cares.
import { existsSync } from "node:fs";
import { delimiter, join } from "node:path";

export interface GpuInfo {
  /** An NVIDIA driver is loaded. */
  nvidia: boolean;
  /** Path of the CUDA compiler, when there is one. */
  nvcc?: string;
}

function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    if (dir && existsSync(join(dir, name))) return join(dir, name);
  }
  return undefined;
}

let cached: GpuInfo | undefined;

export function detectGpu(): GpuInfo {
  cached ??= {
    nvidia: existsSync("/proc/driver/nvidia/version") || existsSync("/dev/nvidia0"),
    nvcc: onPath("nvcc") ?? (existsSync("/usr/local/cuda/bin/nvcc") ? "/usr/local/cuda/bin/nvcc" : undefined),
  };
  return cached;
}
