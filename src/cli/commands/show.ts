// `corral show MODEL`: the info view, or one field raw with --license / --modelfile /
// --parameters / --system / --template.
import type { Command } from "commander";
import { cliClient } from "../context.js";
import { showInfo } from "../show-info.js";

interface ShowFlags {
  license?: boolean;
  modelfile?: boolean;
  parameters?: boolean;
  system?: boolean;
  template?: boolean;
  verbose?: boolean;
}

const FIELDS = ["license", "modelfile", "parameters", "system", "template"] as const;

async function show(model: string, flags: ShowFlags): Promise<void> {
  const selected = FIELDS.filter((f) => flags[f]);
  if (selected.length > 1) {
    throw new Error("only one of '--license', '--modelfile', '--parameters', '--system', or '--template' can be specified");
  }
  const resp = await cliClient().show({ model, verbose: Boolean(flags.verbose) });
  if (resp.capabilities?.includes("image")) throw new Error("image generation models are not currently supported");
  const field = selected[0];
  if (!field) return void process.stdout.write(showInfo(resp, Boolean(flags.verbose)));
  const value = resp[field] ?? "";
  // Ollama prints system and template exactly, the others with a newline.
  process.stdout.write(field === "system" || field === "template" ? value : `${value}\n`);
}

export function registerShow(program: Command): void {
  program
    .command("show")
    .description("Show information for a model")
    .argument("<MODEL>")
    .option("--license", "Show license of a model")
    .option("--modelfile", "Show Modelfile of a model")
    .option("--parameters", "Show parameters of a model")
    .option("--template", "Show template of a model")
    .option("--system", "Show system message of a model")
    .option("-v, --verbose", "Show detailed model information")
    .action(show);
}
