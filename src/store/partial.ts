// An in-progress blob download, in Ollama's on-disk format so either program can resume the other's:
// `sha256-<hex>-partial` holds the data at its final offsets (sparse until filled) and
// `sha256-<hex>-partial-<N>` holds part N's state as JSON {"N","Offset","Size","Completed"}.
// The data only becomes `sha256-<hex>` after its sha256 matched. A sidecar (partial-info.ts) names it.
import { createHash, type Hash } from "node:crypto";
import { open, readdir, readFile, rename, stat, unlink, utimes, writeFile, type FileHandle } from "node:fs/promises";
import { join } from "node:path";
import { ensureDir, FILE_MODE, syncDir, tempPath } from "./blobs.js";
import { readSidecar, removeSidecar, writeSidecar, type PartialInfo } from "./partial-info.js";

export interface PartState {
  N: number;
  Offset: number;
  Size: number;
  Completed: number;
}

export class DigestMismatchError extends Error {
  constructor(want: string, got: string) {
    super(`digest mismatch, file must be downloaded again: want ${want}, got ${got}`);
    this.name = "DigestMismatchError";
  }
}

const isCount = (v: unknown): v is number => typeof v === "number" && Number.isSafeInteger(v) && v >= 0;

function parsePart(raw: string, n: number): PartState | undefined {
  try {
    const p = JSON.parse(raw) as Record<string, unknown>;
    if (p.N !== n || !isCount(p.Offset) || !isCount(p.Size) || !isCount(p.Completed) || p.Completed > p.Size) return undefined;
    return { N: n, Offset: p.Offset, Size: p.Size, Completed: p.Completed };
  } catch {
    return undefined;
  }
}

/** Parts that tile [0, total) exactly, in order; anything else is not a usable download state. */
function tiles(parts: PartState[], total: number): boolean {
  let offset = 0;
  for (const [i, p] of parts.entries()) {
    if (p.N !== i || p.Offset !== offset || p.Size === 0) return false;
    offset += p.Size;
  }
  return offset === total;
}

const HASH_CHUNK = 4 << 20;

export class PartialBlob {
  readonly dataPath: string;
  private readonly prefix: string;
  // The digest is computed while the download runs: the bytes before `target` are final, and the
  // hash follows them through the data file, so little is left to read when the download ends.
  private hash: Hash = createHash("sha256");
  private hashed = 0;
  private target = 0;
  private hashing?: Promise<void>;

  /** `hex` must be a validated lower-case sha256 hex (the store checks it). */
  constructor(
    private readonly dir: string,
    readonly hex: string,
    private readonly finalPath: string,
  ) {
    this.prefix = `sha256-${hex}-partial-`;
    this.dataPath = join(dir, `sha256-${hex}-partial`);
  }

  private partPath(n: number): string {
    return join(this.dir, `${this.prefix}${n}`);
  }

  /** Part numbers of the state files on disk. */
  private async partNumbers(): Promise<number[]> {
    const names = await readdir(this.dir).catch(() => [] as string[]);
    return names
      .filter((e) => e.startsWith(this.prefix) && /^\d+$/.test(e.slice(this.prefix.length)))
      .map((e) => Number(e.slice(this.prefix.length)))
      .sort((a, b) => a - b);
  }

  /** The saved parts when they describe a blob of `total` bytes and the data file is still there. */
  async resume(total: number): Promise<PartState[] | undefined> {
    const saved: PartState[] = [];
    for (const n of await this.partNumbers()) {
      const p = parsePart(await readFile(this.partPath(n), "utf8").catch(() => ""), n);
      if (!p) return undefined;
      saved.push(p);
    }
    const dataSize = await stat(this.dataPath).then((s) => s.size, () => -1);
    return saved.length > 0 && tiles(saved, total) && dataSize === total ? saved : undefined;
  }

  /** A fresh download of `total` bytes cut into parts of `sizes`; any old state is removed. */
  async start(total: number, sizes: number[]): Promise<PartState[]> {
    await ensureDir(this.dir);
    await this.discard();
    const parts: PartState[] = [];
    let offset = 0;
    for (const size of sizes) {
      parts.push({ N: parts.length, Offset: offset, Size: size, Completed: 0 });
      offset += size;
    }
    const fh = await open(this.dataPath, "w", FILE_MODE);
    // Sparse: the file has its final size at once, parts fill it in place.
    await fh.truncate(total).catch(() => {});
    await fh.close();
    for (const p of parts) await this.save(p);
    return parts;
  }

  /** Records which model this download is for and its size, for listings. */
  async describe(name: string, total: number): Promise<void> {
    await writeSidecar(this.dir, this.hex, name, total);
  }

  /** What the files on disk say of this download; undefined when there is none. */
  async info(): Promise<PartialInfo | undefined> {
    const parts: PartState[] = [];
    let modified = 0;
    for (const n of await this.partNumbers()) {
      const path = this.partPath(n);
      const p = parsePart(await readFile(path, "utf8").catch(() => ""), n);
      if (p) parts.push(p);
      modified = Math.max(modified, await stat(path).then((s) => s.mtimeMs, () => 0));
    }
    const data = await stat(this.dataPath).catch(() => undefined);
    const sidecar = await readSidecar(this.dir, this.hex);
    if (!data && parts.length === 0 && !sidecar) return undefined;
    const total = sidecar?.total ?? (parts.length > 0 ? parts.reduce((n, p) => n + p.Size, 0) : (data?.size ?? 0));
    const completed = Math.min(total, parts.reduce((n, p) => n + p.Completed, 0));
    modified = Math.max(modified, data?.mtimeMs ?? 0, sidecar ? Date.parse(sidecar.updated) || 0 : 0);
    return { digest: `sha256:${this.hex}`, name: sidecar?.name ?? "", total, completed, modifiedAt: new Date(modified) };
  }

  /** The data file for positional writes by the parts. */
  async openData(): Promise<FileHandle> {
    return open(this.dataPath, "r+");
  }

  /**
   * Records a part's progress. Temp file + rename so a crash leaves the old or the new state, never
   * a torn one; no fsync: after a power loss the final digest check catches stale data.
   */
  async save(p: PartState): Promise<void> {
    const tmp = tempPath(this.dir);
    try {
      await writeFile(tmp, JSON.stringify({ N: p.N, Offset: p.Offset, Size: p.Size, Completed: p.Completed }) + "\n", { mode: FILE_MODE });
      await rename(tmp, this.partPath(p.N));
    } catch (e) {
      await unlink(tmp).catch(() => {});
      throw e;
    }
  }

  /** Tells the hash that the data file's first `upTo` bytes are final; it catches up in the background. */
  hashUpTo(upTo: number): void {
    if (upTo <= this.target) return;
    this.target = upTo;
    this.hashing ??= this.catchUp()
      .catch(() => {
        // Start over at commit, which reports any error that is still there.
        this.hash = createHash("sha256");
        this.hashed = 0;
      })
      .finally(() => (this.hashing = undefined));
  }

  private async catchUp(): Promise<void> {
    const fh = await open(this.dataPath, "r");
    try {
      const buf = Buffer.allocUnsafe(HASH_CHUNK);
      while (this.hashed < this.target) {
        const { bytesRead } = await fh.read(buf, 0, Math.min(HASH_CHUNK, this.target - this.hashed), this.hashed);
        if (bytesRead === 0) throw new Error(`${this.dataPath} is shorter than its download`);
        this.hash.update(buf.subarray(0, bytesRead));
        this.hashed += bytesRead;
      }
    } finally {
      await fh.close();
    }
  }

  /** sha256 of the whole data file, as `sha256:<hex>`. */
  private async digestOfData(): Promise<string> {
    const size = (await stat(this.dataPath)).size;
    // Whatever the background hash has not reached yet, now.
    while (this.hashing) await this.hashing;
    if (this.hashed > size) {
      this.hash = createHash("sha256");
      this.hashed = 0;
    }
    this.target = size;
    await this.catchUp();
    return `sha256:${this.hash.digest("hex")}`;
  }

  /**
   * Checks the downloaded data against the digest and moves it into place as the blob. On a
   * mismatch everything of this download is deleted and DigestMismatchError is thrown.
   */
  async commit(): Promise<void> {
    const want = `sha256:${this.hex}`;
    const fh = await open(this.dataPath, "r+");
    let got: string;
    try {
      // The flush to disk and the rest of the hash overlap; a mismatch discards the file anyway.
      [got] = await Promise.all([this.digestOfData(), fh.sync()]);
      await fh.chmod(FILE_MODE);
    } finally {
      await fh.close();
    }
    if (got !== want) {
      await this.discard();
      throw new DigestMismatchError(want, got);
    }
    await rename(this.dataPath, this.finalPath);
    await syncDir(this.dir);
    const now = new Date();
    await utimes(this.finalPath, now, now).catch(() => {});
    await this.removeParts();
    await removeSidecar(this.dir, this.hex);
  }

  private async removeParts(): Promise<void> {
    for (const n of await this.partNumbers()) await unlink(this.partPath(n)).catch(() => {});
  }

  /** Removes the data, every part state and the sidecar. */
  async discard(): Promise<void> {
    await unlink(this.dataPath).catch(() => {});
    await this.removeParts();
    await removeSidecar(this.dir, this.hex);
  }
}
