// `corral serve` (alias `start`): runs the server in this process until SIGINT / SIGTERM.
import type { Command } from "commander";
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
];

export function envHelp(vars: string[][]): string {
  return `\nEnvironment Variables:\n${vars.map(([name, text]) => `      ${name!.padEnd(27)}   ${text}`).join("\n")}\n`;
}

async function serve(): Promise<void> {
  // Loaded on demand so client commands never pay for the server's modules.
  const { startServer } = await import("../../server/serve.js");
  const server = await startServer();
  process.stderr.write(`corral ${VERSION} listening on ${server.url}\n`);
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await server.close();
    process.exit(0);
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}

export function registerServe(program: Command): void {
  program
    .command("serve")
    .alias("start")
    .description("Start corral")
    .addHelpText("after", envHelp(SERVER_ENV))
    .action(serve);
}
