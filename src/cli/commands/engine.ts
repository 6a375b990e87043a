// `corral engine [build|clear]` and `corral rpc-server`: the llama.cpp binaries corral builds from
// the source node-llama-cpp ships. Local commands: they need no server.
import { spawn } from "node:child_process";
import { rm } from "node:fs/promises";
import type { Command } from "commander";
import { loadConfig, physicalCores } from "../../config.js";
import { buildEngine } from "../../engine/build.js";
import { buildKey, findBuild, machineFlavour } from "../../engine/cache.js";
import { buildReporter } from "../../engine/report.js";
import { selectEngine } from "../../engine/select.js";
import { llamaSource } from "../../engine/source.js";

async function status(): Promise<void> {
  const config = loadConfig();
  const source = llamaSource();
  const build = findBuild(config.engineCache);
  const lines = [
    `source      llama.cpp ${source.tag} (${source.commit.slice(0, 7)})`,
    `cache       ${config.engineCache}`,
    `build       ${build ? `${build.key}, built ${build.builtAt} in ${build.seconds} s` : `${buildKey()} not built (corral engine build)`}`,
    `engine      ${config.engine === "auto" ? `${selectEngineName(config)} (auto)` : config.engine}`,
  ];
  process.stdout.write(lines.join("\n") + "\n");
}

function selectEngineName(config: ReturnType<typeof loadConfig>): string {
  try {
    return selectEngine(config.engine, config.engineCache).driver;
  } catch (e) {
    return (e as Error).message;
  }
}

export async function buildWithProgress(label = "building llama.cpp"): Promise<void> {
  const config = loadConfig();
  const report = buildReporter(`${label} (${machineFlavour()})`);
  const build = await buildEngine({ cacheRoot: config.engineCache, jobs: physicalCores(), onProgress: report.onProgress });
  report.end(`ready in ${build.dir} (${build.seconds} s)`);
}

async function clear(): Promise<void> {
  const config = loadConfig();
  await rm(config.engineCache, { recursive: true, force: true });
  process.stdout.write(`removed ${config.engineCache}\n`);
}

async function rpcServer(opts: { host: string; port: string; threads?: string }): Promise<void> {
  const config = loadConfig();
  const build = findBuild(config.engineCache) ?? findBuild(config.engineCache, "cpu");
  if (!build) throw new Error("llama.cpp is not built on this machine; run `corral engine build` first");
  const args = ["--host", opts.host, "--port", opts.port, "--threads", opts.threads ?? String(physicalCores())];
  const child = spawn(build.bin("rpc-server"), args, { stdio: "inherit" });
  const stop = () => child.kill("SIGTERM");
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
  await new Promise<void>((resolve, reject) =>
    child.on("exit", (code, signal) => (code === 0 || signal ? resolve() : reject(new Error(`rpc-server exited with status ${code}`)))),
  );
}

export function registerEngine(program: Command): void {
  const engine = program
    .command("engine")
    .description("Show, build or clear the llama.cpp engine corral builds from bundled source")
    .action(status);
  engine.command("build").description("Build llama-server, llama-bench and rpc-server for this machine").action(() => buildWithProgress());
  engine.command("clear").description("Remove every cached llama.cpp build").action(clear);
  program
    .command("rpc-server")
    .description("Serve this machine's CPU or GPU to other corral servers over llama.cpp's RPC (trusted networks only)")
    .option("--host <host>", "address to listen on", "127.0.0.1")
    .option("-p, --port <port>", "port to listen on", "50052")
    .option("-t, --threads <n>", "CPU threads")
    .action(rpcServer);
}
