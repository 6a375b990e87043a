// `corral pull MODEL [--insecure]`: one progress bar per layer, spinners for the other steps.
import type { Command } from "commander";
import type { Client } from "../client.js";
import { cliClient } from "../context.js";
import { Progress } from "../progress/progress.js";
import { statusRenderer } from "../progress/statuses.js";

/** Pulls `model` with Ollama's progress display (also used by `run` for a missing model). */
export async function pullWithProgress(client: Client, model: string, insecure: boolean): Promise<void> {
  const progress = new Progress();
  try {
    await client.pull({ model, insecure }, statusRenderer(progress, "pull"));
  } finally {
    progress.stop();
  }
}

export function registerPull(program: Command): void {
  program
    .command("pull")
    .description("Pull a model from a registry")
    .argument("<MODEL>")
    .option("--insecure", "Use an insecure registry")
    .action((model: string, opts: { insecure?: boolean }) => pullWithProgress(cliClient(), model, Boolean(opts.insecure)));
}
