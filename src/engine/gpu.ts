// What accelerators this machine has, as far as building and running llama.cpp cares.
import { existsSync } from "node:fs";
import { which } from "./which.js";

export interface GpuInfo {
  /** An NVIDIA driver is loaded. */
  nvidia: boolean;
  /** Path of the CUDA compiler, when there is one. */
  nvcc?: string;
}

let cached: GpuInfo | undefined;

export function detectGpu(): GpuInfo {
  cached ??= {
    nvidia: existsSync("/proc/driver/nvidia/version") || existsSync("/dev/nvidia0"),
    nvcc: which("nvcc") ?? (existsSync("/usr/local/cuda/bin/nvcc") ? "/usr/local/cuda/bin/nvcc" : undefined),
  };
  return cached;
}
