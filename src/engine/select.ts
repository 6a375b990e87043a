// Which engine runs a model: llama.cpp's own server when it is built for this machine, else the
// node-llama-cpp binding (also where a GPU is present that only the binding's prebuilt backends reach).
import type { EngineChoice } from "../config.js";
import { findBuild, machineFlavour, type EngineBuild } from "./cache.js";
import { detectGpu } from "./gpu.js";

export type Selected = { driver: "llama-server"; build: EngineBuild } | { driver: "node-llama-cpp" };

export const NOT_BUILT =
  "llama.cpp's server is not built on this machine; run `corral engine build` (or unset CORRAL_ENGINE to use node-llama-cpp)";

export function selectEngine(choice: EngineChoice, cacheRoot: string): Selected {
  if (choice === "node-llama-cpp") return { driver: "node-llama-cpp" };
  const build = findBuild(cacheRoot, machineFlavour()) ?? (choice === "llama-server" ? findBuild(cacheRoot, "cpu") : undefined);
  if (choice === "llama-server") {
    if (!build) throw new Error(NOT_BUILT);
    return { driver: "llama-server", build };
  }
  // A CPU-only build on a machine with an NVIDIA GPU would lose the GPU the binding's CUDA backend uses.
  if (!build || (detectGpu().nvidia && build.flavour === "cpu")) return { driver: "node-llama-cpp" };
  return { driver: "llama-server", build };
}
