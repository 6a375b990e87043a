// The engine the tests run on: llama.cpp's own server when it is built (building it first if the
// cache lacks it), node-llama-cpp when CORRAL_ENGINE says so.
import { loadConfig } from "../../src/config.js";
import { buildEngine } from "../../src/engine/build.js";
import { findBuild } from "../../src/engine/cache.js";
import { buildReporter } from "../../src/engine/report.js";
import { selectEngine } from "../../src/engine/select.js";
import type { DriverName, LoadParams } from "../../src/runner/protocol.js";
import { physicalCores } from "../../src/config.js";

export const config = loadConfig();

/** Builds llama-server into the engine cache unless it is there or node-llama-cpp is forced. */
export async function ensureEngine(): Promise<void> {
  if (config.engine === "node-llama-cpp" || findBuild(config.engineCache)) return;
  const report = buildReporter("building llama.cpp for the tests");
  const build = await buildEngine({ cacheRoot: config.engineCache, jobs: physicalCores(), onProgress: report.onProgress });
  report.end(`done in ${build.seconds} s`);
}

/** The drivers these tests can run on here: the configured one, and node-llama-cpp beside llama-server. */
export function availableDrivers(): DriverName[] {
  const main = selectEngine(config.engine, config.engineCache).driver;
  return main === "llama-server" ? ["llama-server", "node-llama-cpp"] : ["node-llama-cpp"];
}

type BaseLoad = Omit<LoadParams, "driver" | "batchThreads" | "embedding" | "llamaServer"> & Partial<LoadParams>;

/** Full load parameters for a driver (default: the one the server would pick). */
export function loadFor(base: BaseLoad, driver: DriverName = selectEngine(config.engine, config.engineCache).driver): LoadParams {
  const p: LoadParams = { batchThreads: base.threads, embedding: false, ...base, driver };
  if (driver === "llama-server" && !p.llamaServer) {
    const build = selectEngine("llama-server", config.engineCache);
    if (build.driver !== "llama-server") throw new Error("llama-server is not built");
    p.llamaServer = {
      binary: build.build.bin("llama-server"),
      gpuLayers: 0, gpuAvailable: false, mainGpu: 0, spread: false, kvCacheType: "f16", gpuOverhead: 0, rpcServers: [],
      multiuserCache: false, debug: config.debug,
    };
  }
  return p;
}
