#!/usr/bin/env node
// The `corral` command: parses the command line and reports failures as `Error: <message>`
// with exit status 1, as Ollama's CLI does.
import { CommanderError } from "commander";
import { normalizeArgs } from "./args.js";
import { buildProgram } from "./program.js";

// A reader that stops early (`corral list | head -1`) is not an error: stop quietly, as a Go program would.
for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (err: NodeJS.ErrnoException) => {
    if (err.code === "EPIPE") process.exit(0);
    throw err;
  });
}

async function main(): Promise<void> {
  try {
    await buildProgram().parseAsync(normalizeArgs(process.argv.slice(2)), { from: "user" });
  } catch (err) {
    if (err instanceof CommanderError) {
      // Commander has already printed its message (or the help / version text).
      process.exitCode = err.exitCode;
      return;
    }
    process.stderr.write(`Error: ${(err as Error).message}\n`);
    process.exitCode = 1;
  }
}

void main();
