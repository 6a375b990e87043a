// `corral list` / `ls [PREFIX]`: the local models, newest first, optionally filtered by a
// case-insensitive name prefix; `--partial` lists unfinished downloads instead.
import type { Command } from "commander";
import { cliClient } from "../context.js";
import { humanBytes, humanTime } from "../format.js";
import { listPartials } from "../partials.js";
import { renderTable } from "../table.js";

export async function listModels(prefix?: string): Promise<void> {
  const { models } = await cliClient().list();
  const rows = models
    .filter((m) => !prefix || m.name.toLowerCase().startsWith(prefix.toLowerCase()))
    .map((m) => {
      const remote = Boolean((m as { remote_model?: string }).remote_model);
      return [m.name, m.digest.slice(0, 12), remote ? "-" : humanBytes(m.size), humanTime(new Date(m.modified_at), "Never")];
    });
  process.stdout.write(renderTable(rows, { header: ["NAME", "ID", "SIZE", "MODIFIED"] }));
}

export function registerList(program: Command): void {
  program
    .command("list")
    .alias("ls")
    .description("List models")
    .argument("[PREFIX]")
    .option("--partial", "List unfinished downloads instead")
    .action((prefix: string | undefined, opts: { partial?: boolean }) => (opts.partial ? listPartials() : listModels(prefix)));
}
