// `corral rm MODEL...`: each model is stopped first (its memory freed), then deleted.
import type { Command } from "commander";
import { cliClient } from "../context.js";
import { loadOrUnload } from "../load.js";

async function remove(models: string[]): Promise<void> {
  const client = cliClient();
  for (const model of models) {
    try {
      await loadOrUnload(client, model, { keepAlive: "0s" });
    } catch (e) {
      if (!/not found/i.test((e as Error).message)) process.stderr.write(`Warning: unable to stop model '${model}'\n`);
    }
    await client.delete(model);
    process.stdout.write(`deleted '${model}'\n`);
  }
}

export function registerRm(program: Command): void {
  program.command("rm").description("Remove a model").argument("<MODEL...>").action(remove);
}
