// `corral create MODEL [-f Modelfile] [-q TYPE]`: parses the Modelfile here, uploads the local
// files it names as blobs, then asks the server to build the model, rendering its progress.
import type { Command } from "commander";
import { readFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { decodeModelfile, modelfileRequest, parseModelfile } from "../../create/modelfile.js";
import { parseModelName } from "../../store/name.js";
import { cliClient } from "../context.js";
import { pathResolver, requestFileNames } from "../create/files.js";
import { uploadBlobs } from "../create/upload.js";
import { Progress } from "../progress/progress.js";
import { statusRenderer } from "../progress/statuses.js";
import type { Client } from "../client.js";

/** The Modelfile's text and the folder its paths are relative to; no Modelfile at all means `FROM .`. */
async function readModelfile(file: string | undefined): Promise<{ text: string; dir: string }> {
  const path = resolve(file || "Modelfile");
  try {
    return { text: decodeModelfile(await readFile(path)), dir: dirname(path) };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
    if (file) throw new Error("specified Modelfile wasn't found");
    return { text: "FROM .\n", dir: process.cwd() };
  }
}

/** Uploads the files of one request field and re-keys it by the names the server should see. */
async function upload(client: Client, files: Record<string, string> | undefined, progress: Progress) {
  if (!files) return undefined;
  await uploadBlobs(client, new Map(Object.entries(files)), progress);
  const names = requestFileNames(Object.keys(files));
  return Object.fromEntries(Object.entries(files).map(([path, digest]) => [names.get(path)!, digest]));
}

async function create(model: string, opts: { file?: string; quantize?: string }): Promise<void> {
  if (!parseModelName(model)) throw new Error(`invalid model name: ${model}`);
  const { text, dir } = await readModelfile(opts.file);
  const commands = parseModelfile(text);
  const client = cliClient();
  const warnings: string[] = [];
  const progress = new Progress();
  try {
    const gathering = progress.spinner("gathering model components");
    const req = await modelfileRequest(commands, pathResolver(dir), (w) => warnings.push(w));
    gathering.stop();
    req.files = await upload(client, req.files, progress);
    req.adapters = await upload(client, req.adapters, progress);
    req.draft_files = await upload(client, req.draft_files, progress);
    await client.create({ model, ...req, quantize: opts.quantize || undefined }, statusRenderer(progress, "create"));
  } finally {
    progress.stop();
    for (const w of warnings) process.stderr.write(`${w}\n`);
  }
}

export function registerCreate(program: Command): void {
  program
    .command("create")
    .description("Create a model")
    .argument("<MODEL>")
    .option("-f, --file <file>", 'Name of the Modelfile (default "Modelfile")')
    .option("-q, --quantize <type>", "Quantize model to this level (e.g. q4_K_M)")
    .action(create);
}
