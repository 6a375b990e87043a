// The sidecar of a partial download, `sha256-<hex>-partial.json`: which model it was for, its digest,
// its total size and when it was last started or resumed. Ollama's part files say how far it got but
// not what it is; the sidecar lets a listing name it. Its name does not match Ollama's
// `-partial-<N>` part pattern, so either program can still resume the other's download.
import { readdir, readFile, rename, unlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { FILE_MODE, tempPath } from "./blobs.js";

export interface PartialSidecar {
  name: string;
  digest: string;
  total: number;
  /** RFC 3339 */
  updated: string;
}

/** A partial download as found on disk. */
export interface PartialInfo {
  digest: string;
  /** The model the download was for ("" when no sidecar says). */
  name: string;
  total: number;
  /** Bytes recorded as downloaded by the part states (what a resume will not fetch again). */
  completed: number;
  modifiedAt: Date;
}

const PARTIAL_FILE_RE = /^sha256-([0-9a-f]{64})-partial(?:-\d+|\.json)?$/;

/** Hex digest of a partial download's file (data, part state or sidecar), or undefined. */
export function partialFileHex(fileName: string): string | undefined {
  return PARTIAL_FILE_RE.exec(fileName)?.[1];
}

export const sidecarPath = (dir: string, hex: string) => join(dir, `sha256-${hex}-partial.json`);

/** The hex digests that have any partial download file in `dir`. */
export async function partialHexes(dir: string): Promise<string[]> {
  const names = await readdir(dir).catch(() => [] as string[]);
  return [...new Set(names.map(partialFileHex).filter((h): h is string => h !== undefined))].sort();
}

/** Temp file + rename: a crash leaves the old sidecar or the new one. */
export async function writeSidecar(dir: string, hex: string, name: string, total: number): Promise<void> {
  const body: PartialSidecar = { name, digest: `sha256:${hex}`, total, updated: new Date().toISOString() };
  const tmp = tempPath(dir);
  try {
    await writeFile(tmp, JSON.stringify(body) + "\n", { mode: FILE_MODE });
    await rename(tmp, sidecarPath(dir, hex));
  } catch (e) {
    await unlink(tmp).catch(() => {});
    throw e;
  }
}

/** The sidecar when it is there and well-formed. */
export async function readSidecar(dir: string, hex: string): Promise<PartialSidecar | undefined> {
  try {
    const s = JSON.parse(await readFile(sidecarPath(dir, hex), "utf8")) as Partial<PartialSidecar>;
    if (typeof s.name !== "string" || typeof s.updated !== "string") return undefined;
    if (typeof s.total !== "number" || !Number.isSafeInteger(s.total) || s.total < 0) return undefined;
    return { name: s.name, digest: `sha256:${hex}`, total: s.total, updated: s.updated };
  } catch {
    return undefined;
  }
}

export async function removeSidecar(dir: string, hex: string): Promise<void> {
  await unlink(sidecarPath(dir, hex)).catch(() => {});
}
