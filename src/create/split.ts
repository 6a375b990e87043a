// Split GGUFs in /api/create: the parts among a create's files are grouped by their file-name prefix,
// checked against their split metadata (every part there, each once, names and metadata agreeing)
// and merged into one staged GGUF that becomes a single model layer, as Ollama stores them.
import { badRequest } from "../api/errors.js";
import { readGguf, type GgufFile } from "../gguf/reader.js";
import { mergeSplitGguf, splitFileName, splitOf, splitPartName, SplitError } from "../gguf/split.js";
import type { ModelStore } from "../store/store.js";
import type { Staging } from "./import.js";

export interface CreateGguf {
  file: string;
  digest: string;
  gguf: GgufFile;
}

/** A merged split: its staged file and header; `replaces` are the parts it stands for. */
export interface MergedSplit {
  path: string;
  gguf: GgufFile;
  replaces: CreateGguf[];
}

function splitFacts(g: CreateGguf) {
  let meta: ReturnType<typeof splitOf>;
  try {
    meta = splitOf(g.gguf);
  } catch (e) {
    if (e instanceof SplitError) throw badRequest(`split GGUF "${g.file}": ${e.message}`);
    throw e;
  }
  if (!meta) return undefined;
  const name = splitFileName(g.file);
  if (!name) throw badRequest(`split GGUF "${g.file}" must use llama.cpp split filename pattern`);
  if (name.count !== meta.count)
    throw badRequest(`split GGUF "${g.file}" filename count ${name.count} does not match metadata count ${meta.count}`);
  if (name.index !== meta.no)
    throw badRequest(`split GGUF "${g.file}" filename index ${name.index} does not match metadata index ${meta.no}`);
  return { prefix: name.prefix, index: name.index, count: name.count };
}

/** The split groups among `ggufs`, each checked complete and in order. */
export function splitGroups(ggufs: CreateGguf[]): CreateGguf[][] {
  const groups = new Map<string, { prefix: string; count: number; parts: (CreateGguf | undefined)[] }>();
  for (const g of ggufs) {
    const s = splitFacts(g);
    if (!s) continue;
    const key = `${s.prefix}:${s.count}`;
    const group = groups.get(key) ?? { prefix: s.prefix, count: s.count, parts: new Array<CreateGguf | undefined>(s.count) };
    groups.set(key, group);
    if (group.parts[s.index]) throw badRequest(`split GGUF has duplicate shard index ${s.index} ("${g.file}")`);
    group.parts[s.index] = g;
  }
  const out: CreateGguf[][] = [];
  for (const { prefix, count, parts } of groups.values()) {
    for (let i = 0; i < count; i++) {
      if (!parts[i]) {
        const missing = splitPartName(prefix.split("/").pop()!, i, count);
        throw badRequest(`split GGUF "${prefix}" is missing shard ${i + 1} of ${count}: upload "${missing}" with the other parts`);
      }
    }
    out.push(parts as CreateGguf[]);
  }
  return out;
}

/** Merges each split group (from splitGroups) into a staged GGUF. */
export async function mergeSplits(store: ModelStore, groups: CreateGguf[][], staging: Staging, say: (s: string) => void): Promise<MergedSplit[]> {
  const merged: MergedSplit[] = [];
  for (const parts of groups) {
    say("merging split GGUF");
    const out = await staging.file(`merged-${merged.length}.gguf`);
    try {
      await mergeSplitGguf(parts.map((p) => ({ path: store.blobPath(p.digest), gguf: p.gguf })), out);
    } catch (e) {
      if (e instanceof SplitError) throw badRequest(e.message);
      throw e;
    }
    merged.push({ path: out, gguf: await readGguf(out), replaces: parts });
  }
  return merged;
}
