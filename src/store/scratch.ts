// Scratch directories live in the OS temp directory, named with their owner's tag (owner.ts) so that a
// later start can remove those a killed process left behind, while those of a live process are kept:
// `create` for the heavy steps of a create (conversion, quantization), `llama` for the private folder
// holding a llama-server's socket.
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { OWNER, ownerIsGone } from "./owner.js";

export type ScratchKind = "create" | "llama";

const SCRATCH_RE = /^corral-(?:create|llama)-(\d+)-([0-9a-f]{8})-[A-Za-z0-9]{6}$/;

/** A new, empty scratch directory owned by this process (mode 0700, as mkdtemp makes it). */
export function makeScratchDir(kind: ScratchKind = "create"): Promise<string> {
  return mkdtemp(join(tmpdir(), `corral-${kind}-${OWNER}-`));
}

/** Removes the scratch directories of processes that are gone; returns how many. */
export async function removeDeadScratch(base = tmpdir()): Promise<number> {
  let removed = 0;
  for (const e of await readdir(base).catch(() => [] as string[])) {
    const m = SCRATCH_RE.exec(e);
    if (!m || !ownerIsGone(Number(m[1]), m[2])) continue;
    await rm(join(base, e), { recursive: true, force: true }).then(() => removed++, () => {});
  }
  return removed;
}
