// What a start does to the models directory before serving: legacy blob names fixed, the leftovers of
// killed processes removed (temp files and scratch directories whose owner is gone, the part files of
// downloads that did finish), and, unless pruning is off, old unreferenced blobs and empty manifest
// directories removed. Partial downloads are never removed here, whatever their age: they are listed
// by /api/partials and removed only when asked.
import { lstat, readdir, rename, rmdir, unlink } from "node:fs/promises";
import { join } from "node:path";
import { blobFileHex, digestHex, isDeadTemp, isTempName } from "./blobs.js";
import { partialFileHex } from "./partial-info.js";
import { removeDeadScratch } from "./scratch.js";

const PRUNE_AGE_MS = 60 * 60 * 1000;

export interface StartupContext {
  blobsDir: string;
  manifestsDir: string;
  noPrune: boolean;
  /** Hex digests referenced by any manifest, or undefined if some manifest cannot be read. */
  referenced(): Promise<Set<string> | undefined>;
  warn(msg: string): void;
}

const listDir = (dir: string) => readdir(dir).catch(() => [] as string[]);

export async function recoverStore(ctx: StartupContext): Promise<void> {
  await normaliseBlobNames(ctx);
  await removeDeadTemps(ctx.blobsDir, false);
  await removeDeadTemps(ctx.manifestsDir, true);
  await removeFinishedPartials(ctx.blobsDir);
  await removeDeadScratch();
  if (ctx.noPrune) return;
  await pruneBlobs(ctx);
  await pruneManifestDirs(ctx.manifestsDir, ctx.manifestsDir, Date.now());
}

/** Legacy `sha256:<hex>` (and upper-case hex) blob files get their canonical `sha256-<hex>` name. */
async function normaliseBlobNames(ctx: StartupContext): Promise<void> {
  for (const e of await listDir(ctx.blobsDir)) {
    const hex = digestHex(e);
    if (!hex || e === `sha256-${hex}`) continue;
    await rename(join(ctx.blobsDir, e), join(ctx.blobsDir, `sha256-${hex}`)).catch((err) =>
      ctx.warn(`could not rename blob ${e}: ${(err as Error).message}`),
    );
  }
}

/** Temp files of dead processes: never renamed into place now, so garbage whatever their age. */
async function removeDeadTemps(dir: string, recurse: boolean): Promise<void> {
  for (const e of await listDir(dir)) {
    const path = join(dir, e);
    if (isDeadTemp(e)) {
      await unlink(path).catch(() => {});
    } else if (recurse && !e.startsWith(".")) {
      const st = await lstat(path).catch(() => undefined);
      if (st?.isDirectory()) await removeDeadTemps(path, true);
    }
  }
}

/** A download killed after its blob was moved into place but before its part files went. */
async function removeFinishedPartials(blobsDir: string): Promise<void> {
  const names = await listDir(blobsDir);
  const blobs = new Set(names.map(blobFileHex).filter(Boolean));
  for (const e of names) {
    const hex = partialFileHex(e);
    if (hex && blobs.has(hex)) await unlink(join(blobsDir, e)).catch(() => {});
  }
}

/** Removes unreferenced blobs and stray files older than an hour; partial downloads stay. */
async function pruneBlobs(ctx: StartupContext): Promise<void> {
  const refs = await ctx.referenced();
  if (!refs) {
    ctx.warn("skipping blob pruning because a manifest is corrupt");
    return;
  }
  const cutoff = Date.now() - PRUNE_AGE_MS;
  for (const e of await listDir(ctx.blobsDir)) {
    if (partialFileHex(e)) continue;
    const path = join(ctx.blobsDir, e);
    const st = await lstat(path).catch(() => undefined);
    if (!st?.isFile() || st.mtimeMs > cutoff) continue;
    const hex = blobFileHex(e);
    if (hex && refs.has(hex)) continue;
    await unlink(path).catch(() => {});
  }
}

/** Removes empty directories (and stale temp files) under manifests/, keeping manifests/ itself. */
async function pruneManifestDirs(root: string, dir: string, now: number): Promise<boolean> {
  let empty = true;
  for (const e of await listDir(dir)) {
    const path = join(dir, e);
    const st = await lstat(path).catch(() => undefined);
    if (st?.isDirectory()) {
      if (!(await pruneManifestDirs(root, path, now))) empty = false;
    } else if (st && isTempName(e) && st.mtimeMs < now - PRUNE_AGE_MS) {
      await unlink(path).catch(() => (empty = false));
    } else {
      empty = false;
    }
  }
  if (!empty || dir === root) return false;
  return rmdir(dir).then(
    () => true,
    () => false,
  );
}
