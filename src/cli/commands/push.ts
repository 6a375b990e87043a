// `corral push MODEL [--insecure]`: uploads a model to its registry, then says where it is.
import type { Command } from "commander";
import { displayShortest, fullName, parseModelName } from "../../store/name.js";
import { cliClient } from "../context.js";
import { Progress } from "../progress/progress.js";
import { statusRenderer } from "../progress/statuses.js";

function isOllamaHost(host: string): boolean {
  return host.endsWith(".ollama.ai") || host.endsWith(".ollama.com");
}

async function push(model: string, opts: { insecure?: boolean }): Promise<void> {
  const progress = new Progress();
  try {
    await cliClient().push({ model, insecure: Boolean(opts.insecure) }, statusRenderer(progress, "push"));
  } catch (e) {
    const text = (e as Error).message.toLowerCase();
    if (text.includes("access denied") || text.includes("unauthorized")) {
      throw new Error("you are not authorized to push to this namespace, create the model under a namespace you own");
    }
    throw e;
  } finally {
    progress.stop();
  }
  const name = parseModelName(model);
  let destination = name ? fullName(name) : model;
  if (name && isOllamaHost(name.host)) destination = `https://ollama.com/${displayShortest(name).replace(/:latest$/, "")}`;
  process.stdout.write(`\nYou can find your model at:\n\n\t${destination}\n`);
}

export function registerPush(program: Command): void {
  program
    .command("push")
    .description("Push a model to a registry")
    .argument("<MODEL>")
    .option("--insecure", "Use an insecure registry")
    .action(push);
}
