// Digest syntax and crash-safe file writes for the models directory: every file appears under its
// final name complete or not at all (temp file in the same directory + rename).
import { createHash, randomBytes } from "node:crypto";
import { chmod, mkdir, open, rename, unlink, type FileHandle } from "node:fs/promises";
import { dirname, join, relative, sep } from "node:path";
import { ApiError } from "../api/errors.js";
import { OWNER, ownerIsGone } from "./owner.js";

export const DIGEST_RE = /^sha256[:-]([0-9a-fA-F]{64})$/;
const BLOB_FILE_RE = /^sha256-([0-9a-f]{64})$/;

export const FILE_MODE = 0o644;
export const DIR_MODE = 0o755;

/** Lower-case hex of a `sha256:<hex>` / `sha256-<hex>` digest, or undefined if malformed. */
export function digestHex(digest: string): string | undefined {
  return DIGEST_RE.exec(digest)?.[1]?.toLowerCase();
}

/** Hex of a canonical blob file name (`sha256-<lowercase hex>`), or undefined. */
export function blobFileHex(fileName: string): string | undefined {
  return BLOB_FILE_RE.exec(fileName)?.[1];
}

export function sha256Hex(data: Buffer | string): string {
  return createHash("sha256").update(data).digest("hex");
}

/**
 * Temp files start with "." so they are never valid digests or name parts (list and prune skip them);
 * their name carries the owner tag so a later start can remove those of a dead process.
 */
export function tempPath(dir: string): string {
  return join(dir, `.tmp-${OWNER}-${randomBytes(6).toString("hex")}`);
}

export const isTempName = (fileName: string) => fileName.startsWith(".tmp-");

const TEMP_RE = /^\.tmp-(\d+)-(?:([0-9a-f]{8})-)?[0-9a-f]{12}$/;

/** A temp file whose writer is gone: it can never be renamed into place any more. */
export function isDeadTemp(fileName: string): boolean {
  const m = TEMP_RE.exec(fileName);
  return m !== null && ownerIsGone(Number(m[1]), m[2]);
}

/** fsync of a directory, so a rename or unlink in it survives a power loss (best effort). */
export async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, "r").catch(() => undefined);
  if (!fh) return;
  await fh.sync().catch(() => {});
  await fh.close().catch(() => {});
}

/** mkdir -p with 0755 on every directory it creates, whatever the umask. */
export async function ensureDir(dir: string): Promise<void> {
  const first = await mkdir(dir, { recursive: true, mode: DIR_MODE });
  if (first === undefined) return;
  let d = first;
  await chmod(d, DIR_MODE);
  for (const part of relative(first, dir).split(sep).filter(Boolean)) {
    d = join(d, part);
    await chmod(d, DIR_MODE);
  }
}

async function writeAll(fh: FileHandle, buf: Buffer, length: number): Promise<void> {
  let off = 0;
  while (off < length) off += (await fh.write(buf, off, length - off)).bytesWritten;
}

async function discard(fh: FileHandle | undefined, tmp: string): Promise<void> {
  await fh?.close().catch(() => {});
  await unlink(tmp).catch(() => {});
}

async function commit(fh: FileHandle, tmp: string, dest: string): Promise<void> {
  await fh.sync();
  await fh.chmod(FILE_MODE);
  await fh.close();
  await rename(tmp, dest);
  await syncDir(dirname(dest));
}

/** Writes `data` to `dest` atomically (0644). */
export async function writeFileAtomic(dest: string, data: Buffer | string): Promise<void> {
  const tmp = tempPath(dirname(dest));
  let fh: FileHandle | undefined;
  try {
    fh = await open(tmp, "wx", FILE_MODE);
    const buf = typeof data === "string" ? Buffer.from(data) : data;
    await writeAll(fh, buf, buf.length);
    await commit(fh, tmp, dest);
  } catch (e) {
    await discard(fh, tmp);
    throw e;
  }
}

const STAGING = 1 << 20;

/**
 * Streams `body` into `dest` while hashing it; renames into place only if the sha256 equals
 * `expectedHex`. On mismatch or a stream error the temp file is removed. Returns the size.
 */
export async function writeStreamVerified(
  dest: string,
  expectedHex: string,
  body: NodeJS.ReadableStream | AsyncIterable<Uint8Array>,
  digestAsGiven: string,
): Promise<number> {
  const tmp = tempPath(dirname(dest));
  let fh: FileHandle | undefined;
  try {
    fh = await open(tmp, "wx", FILE_MODE);
    const hash = createHash("sha256");
    // Chunks are copied into one staging buffer: fewer syscalls, and safe if the source reuses buffers.
    const staging = Buffer.allocUnsafe(STAGING);
    let filled = 0;
    let size = 0;
    for await (const chunk of body as AsyncIterable<Uint8Array | string>) {
      const b = typeof chunk === "string" ? Buffer.from(chunk) : chunk;
      hash.update(b);
      size += b.length;
      for (let off = 0; off < b.length; ) {
        const n = Math.min(b.length - off, STAGING - filled);
        staging.set(b.subarray(off, off + n), filled);
        filled += n;
        off += n;
        if (filled === STAGING) {
          await writeAll(fh, staging, filled);
          filled = 0;
        }
      }
    }
    await writeAll(fh, staging, filled);
    const actual = hash.digest("hex");
    if (actual !== expectedHex) throw new ApiError(400, `digest mismatch, expected "${digestAsGiven}", got "sha256:${actual}"`);
    await commit(fh, tmp, dest);
    return size;
  } catch (e) {
    await discard(fh, tmp);
    throw e;
  }
}
