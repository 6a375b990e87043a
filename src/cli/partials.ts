// `corral list --partial` and `corral rm --partial [DIGEST...]`: the unfinished downloads a pull left
// on disk, listed with how far they got, and removed on request (never silently).
import type { PartialDownload } from "../api/partials.js";
import type { Client } from "./client.js";
import { cliClient } from "./context.js";
import { humanBytes, humanTime } from "./format.js";
import { renderTable } from "./table.js";

const shortId = (digest: string) => digest.replace(/^sha256:/, "").slice(0, 12);

export async function listPartials(): Promise<void> {
  const { partials } = await cliClient().partials();
  const rows = partials.map((p) => [
    p.name || "-",
    shortId(p.digest),
    `${humanBytes(p.completed)}/${humanBytes(p.total)}`,
    `${p.total > 0 ? Math.floor((100 * p.completed) / p.total) : 0}%`,
    p.downloading ? "downloading" : humanTime(new Date(p.modified_at), "Never"),
  ]);
  process.stdout.write(renderTable(rows, { header: ["NAME", "ID", "DOWNLOADED", "PROGRESS", "MODIFIED"] }));
}

/** The one partial whose digest starts with `given` (with or without `sha256:`, any case). */
function match(partials: PartialDownload[], given: string): PartialDownload {
  const want = given.toLowerCase().replace(/^sha256[:-]/, "");
  const found = partials.filter((p) => p.digest.slice(7).startsWith(want));
  if (!want || found.length === 0) throw new Error(`partial download '${given}' not found`);
  if (found.length > 1) throw new Error(`partial download '${given}' is ambiguous: ${found.map((p) => shortId(p.digest)).join(", ")}`);
  return found[0]!;
}

async function removeOne(client: Client, p: PartialDownload): Promise<void> {
  await client.deletePartial(p.digest);
  process.stdout.write(`deleted partial download ${p.digest}${p.name ? ` (${p.name})` : ""}\n`);
}

/** Removes the named partial downloads, or every one not being downloaded when none is named. */
export async function removePartials(digests: string[]): Promise<void> {
  const client = cliClient();
  const { partials } = await client.partials();
  if (digests.length > 0) {
    for (const d of digests) await removeOne(client, match(partials, d));
    return;
  }
  for (const p of partials) {
    if (p.downloading) process.stderr.write(`Warning: ${p.digest} is being downloaded; kept\n`);
    else await removeOne(client, p);
  }
}
