// `corral ps [PREFIX]`: the loaded models, where they run and until when they stay loaded.
import type { Command } from "commander";
import type { RunningModel } from "../../api/models.js";
import { cliClient } from "../context.js";
import { humanBytes, humanTime } from "../format.js";
import { renderTable } from "../table.js";

function processor(m: RunningModel): string {
  if (m.size_vram === 0) return "100% CPU";
  if (m.size_vram === m.size) return "100% GPU";
  if (m.size_vram > m.size || m.size === 0) return "Unknown";
  const cpu = Math.round(((m.size - m.size_vram) / m.size) * 100);
  return `${cpu}%/${100 - cpu}% CPU/GPU`;
}

function until(m: RunningModel): string {
  const expires = new Date(m.expires_at);
  return expires.getTime() < Date.now() ? "Stopping..." : humanTime(expires, "Never");
}

async function ps(prefix?: string): Promise<void> {
  const { models } = await cliClient().ps();
  const rows = models
    .filter((m) => !prefix || m.name.startsWith(prefix))
    .map((m) => [m.name, m.digest.slice(0, 12), humanBytes(m.size), processor(m), String(m.context_length), until(m)]);
  process.stdout.write(renderTable(rows, { header: ["NAME", "ID", "SIZE", "PROCESSOR", "CONTEXT", "UNTIL"] }));
}

export function registerPs(program: Command): void {
  program.command("ps").description("List running models").argument("[PREFIX]").action(ps);
}
