// `corral cp SOURCE DESTINATION`
import type { Command } from "commander";
import { cliClient } from "../context.js";

async function copy(source: string, destination: string): Promise<void> {
  await cliClient().copy(source, destination);
  process.stdout.write(`copied '${source}' to '${destination}'\n`);
}

export function registerCp(program: Command): void {
  program.command("cp").description("Copy a model").argument("<SOURCE>").argument("<DESTINATION>").action(copy);
}
