#!/usr/bin/env node
// The `corral` command. `serve` (alias `start`) runs the server in this process.
import { startServer } from "../server/serve.js";
import { VERSION } from "../version.js";

async function serve() {
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

async function main(argv: string[]) {
  const [command] = argv;
  switch (command) {
    case "serve":
    case "start":
      return serve();
    case "--version":
    case "-v":
      process.stdout.write(`corral version is ${VERSION}\n`);
      return;
    default:
      process.stderr.write(`Usage: corral serve\n`);
      process.exitCode = command ? 1 : 0;
  }
}

main(process.argv.slice(2)).catch((err: Error) => {
  process.stderr.write(`Error: ${err.message}\n`);
  process.exit(1);
});
