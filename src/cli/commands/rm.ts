// `corral rm MODEL...`: each model is stopped first (its memory freed), then deleted.
// `corral rm --partial [DIGEST...]`: removes unfinished downloads (all of them when none is named).
import type { Command } from "commander";
import { cliClient } from "../context.js";
import { loadOrUnload } from "../load.js";
import { removePartials } from "../partials.js";

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
  program
    .command("rm")
    .description("Remove a model")
    .argument("[MODEL...]", "models, or with --partial digests (or their first characters)")
    .option("--partial", "Remove unfinished downloads: those named, else all not being downloaded")
    .action((args: string[], opts: { partial?: boolean }) => {
      if (opts.partial) return removePartials(args);
      if (args.length === 0) throw new Error("missing required argument 'MODEL'");
      return remove(args);
    });
}
