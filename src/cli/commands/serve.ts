// `corral serve` (alias `start`): runs the server in this process until SIGINT / SIGTERM.
import type { Command } from "commander";
import { loadConfig, physicalCores, type Config } from "../../config.js";
import { buildEngine, buildPrerequisites } from "../../engine/build.js";
import { findBuild } from "../../engine/cache.js";
import { buildReporter } from "../../engine/report.js";
import { VERSION } from "../../version.js";

const SERVER_ENV = [
  ["OLLAMA_DEBUG", "Show additional debug information (e.g. OLLAMA_DEBUG=1)"],
  ["OLLAMA_HOST", "IP Address for the ollama server (default 127.0.0.1:11434)"],
  ["OLLAMA_CONTEXT_LENGTH", "Context length to use unless otherwise specified (default: 4096)"],
  ["OLLAMA_KEEP_ALIVE", "The duration that models stay loaded in memory (default \"5m\")"],
  ["OLLAMA_MAX_LOADED_MODELS", "Maximum number of loaded models per GPU"],
  ["OLLAMA_MAX_QUEUE", "Maximum number of queued requests"],
  ["OLLAMA_MODELS", "The path to the models directory"],
  ["OLLAMA_NUM_PARALLEL", "Maximum number of parallel requests"],
  ["OLLAMA_NOPRUNE", "Do not prune model blobs on startup"],
  ["OLLAMA_ORIGINS", "A comma separated list of allowed origins"],
  ["OLLAMA_FLASH_ATTENTION", "Enabled flash attention"],
  ["OLLAMA_KV_CACHE_TYPE", "Quantization type for the K/V cache (default: f16)"],
  ["OLLAMA_GPU_OVERHEAD", "Reserve a portion of VRAM per GPU (bytes)"],
  ["OLLAMA_SCHED_SPREAD", "Always schedule model across all GPUs"],
  ["OLLAMA_MULTIUSER_CACHE", "Optimize prompt caching for multi-user scenarios"],
  ["CORRAL_ENGINE", "llama-server, node-llama-cpp or auto (default)"],
  ["CORRAL_ENGINE_CACHE", "Where llama.cpp builds are cached (default ~/.cache/corral/llama.cpp)"],
  ["CORRAL_RPC_SERVERS", "llama.cpp RPC workers (host:port,...) that share each model's layers"],
  ["CORRAL_API_KEYS", "API keys clients must send as Authorization: Bearer <key> (comma separated)"],
  ["CORRAL_API_KEYS_FILE", "A file of API keys, one a line (re-read when it changes and on SIGHUP)"],
  ["CORRAL_TLS_CERT", "PEM certificate for HTTPS (with CORRAL_TLS_KEY)"],
  ["CORRAL_TLS_KEY", "PEM private key for HTTPS (with CORRAL_TLS_CERT)"],
];

export function envHelp(vars: string[][]): string {
  return `\nEnvironment Variables:\n${vars.map(([name, text]) => `      ${name!.padEnd(27)}   ${text}`).join("\n")}\n`;
}

async function serve(): Promise<void> {
  // Loaded on demand so client commands never pay for the server's modules.
  const { startServer } = await import("../../server/serve.js");
  const config = loadConfig();
  const server = await startServer(config);
  process.stderr.write(`corral ${VERSION} listening on ${server.url}\n`);
  buildEngineInBackground(config);
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await server.close();
    process.exit(0);
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
  // Only with a keys file: otherwise SIGHUP keeps its usual meaning (stop).
  if (config.apiKeysFile) process.on("SIGHUP", () => server.reloadKeys());
}

/**
 * A server started where llama.cpp is not built yet (say, installed without running install scripts)
 * builds it now and serves on node-llama-cpp meanwhile; models loaded after the build use it.
 */
function buildEngineInBackground(config: Config): void {
  if (config.engine !== "auto" || findBuild(config.engineCache) || buildPrerequisites()) return;
  const report = buildReporter("building llama.cpp in the background (serving on node-llama-cpp meanwhile)");
  buildEngine({ cacheRoot: config.engineCache, jobs: Math.max(1, physicalCores() - 1), onProgress: report.onProgress }).then(
    (b) => report.end(`done in ${b.seconds} s; newly loaded models run on llama-server`),
    (e: Error) => report.end(`failed, staying on node-llama-cpp: ${e.message.split("\n")[0]}`),
  );
}

export function registerServe(program: Command): void {
  program
    .command("serve")
    .alias("start")
    .description("Start corral")
    .addHelpText("after", envHelp(SERVER_ENV))
    .action(serve);
}
