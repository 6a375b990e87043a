// Run by `npm install` (the package's prepare step): builds llama.cpp's server for this machine into
// the engine cache, once. A machine that cannot build still installs: corral then runs on node-llama-cpp.
import { loadConfig, physicalCores } from "../config.js";
import { buildEngine, buildPrerequisites } from "./build.js";
import { findBuild, machineFlavour } from "./cache.js";
import { buildReporter } from "./report.js";

async function main(): Promise<void> {
  const config = loadConfig();
  if (config.engine === "node-llama-cpp") {
    process.stderr.write("corral: CORRAL_ENGINE=node-llama-cpp, not building llama.cpp\n");
    return;
  }
  const existing = findBuild(config.engineCache);
  if (existing) {
    process.stderr.write(`corral: llama.cpp engine ready (${existing.dir})\n`);
    return;
  }
  const missing = buildPrerequisites();
  if (missing) {
    process.stderr.write(`corral: not building llama.cpp (${missing}); models run on node-llama-cpp\n`);
    return;
  }
  const report = buildReporter(`corral: building llama.cpp (${machineFlavour()}, once per machine)`);
  try {
    const build = await buildEngine({ cacheRoot: config.engineCache, jobs: physicalCores(), onProgress: report.onProgress });
    report.end(`done in ${build.seconds} s (${build.dir})`);
  } catch (e) {
    report.end(`failed; models run on node-llama-cpp until \`corral engine build\` succeeds`);
    process.stderr.write(`${(e as Error).message.split("\n").slice(-8).join("\n")}\n`);
  }
}

void main();
