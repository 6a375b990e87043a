// The models directory (spec §7.1): content-addressed blobs plus manifests/<host>/<ns>/<model>/<tag>.
// The only code that writes under it. Paths are built from validated digests and names only.
import { readdir, readFile, rmdir, stat, unlink, utimes } from "node:fs/promises";
import { dirname, join, resolve, sep } from "node:path";
import { ApiError, badRequest, notFound } from "../api/errors.js";
import {
  digestHex,
  ensureDir,
  sha256Hex,
  syncDir,
  writeFileAtomic,
  writeStreamVerified,
} from "./blobs.js";
import { encodeManifest, manifestDigests, manifestSize, parseManifest, type Manifest } from "./manifest.js";
import { displayShortest, isValidName, isValidPart, type ModelName, type NamePart } from "./name.js";
import { PartialBlob } from "./partial.js";
import { partialHexes, type PartialInfo } from "./partial-info.js";
import { recoverStore } from "./startup.js";
import { Confinement, dropLinks } from "./confine.js";

export interface StoredManifest {
  name: ModelName;
  manifest: Manifest;
  raw: Buffer;
  /** sha256 hex of the manifest file bytes, no prefix. */
  digest: string;
  /** Σ layer sizes + config size. */
  size: number;
  /** manifest file mtime */
  modifiedAt: Date;
}

const PARTS: NamePart[] = ["host", "namespace", "model", "tag"];

const partsOf = (n: ModelName) => [n.host, n.namespace, n.model, n.tag];
const nameOf = (p: string[]): ModelName => ({ host: p[0]!, namespace: p[1]!, model: p[2]!, tag: p[3]! });

// Deleted concurrently, or a file where a directory was expected.
const isMissing = (e: unknown) => ["ENOENT", "ENOTDIR"].includes((e as NodeJS.ErrnoException)?.code ?? "");

const warn = (msg: string) => process.stderr.write(`corral: ${msg}\n`);

export class ModelStore {
  readonly root: string;
  private readonly blobsDir: string;
  private readonly manifestsDir: string;
  private readonly noPrune: boolean;
  // Manifest writes and deletes run one at a time so the "is this blob still referenced" check
  // and the write it guards are not interleaved with another of them.
  private queue: Promise<unknown> = Promise.resolve();
  // Every read, listing and write stays inside the root, links resolved.
  private readonly confine: Confinement;

  constructor(root: string, opts?: { noPrune?: boolean }) {
    this.root = resolve(root);
    this.blobsDir = join(this.root, "blobs");
    this.manifestsDir = join(this.root, "manifests");
    this.noPrune = opts?.noPrune ?? false;
    this.confine = new Confinement(this.root);
  }

  private listDir = (dir: string) => this.confine.listDir(dir);
  private isFile = (path: string) => this.confine.isFile(path);

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => {});
    return run;
  }

  // ---- blobs ----

  blobPath(digest: string): string {
    const hex = digestHex(digest);
    if (!hex) throw badRequest("invalid digest format");
    return join(this.blobsDir, `sha256-${hex}`);
  }

  async hasBlob(digest: string): Promise<boolean> {
    return this.isFile(this.blobPath(digest));
  }

  /** Does not read `body` when the blob already exists. */
  async writeBlobStream(
    digest: string,
    body: NodeJS.ReadableStream | AsyncIterable<Uint8Array>,
  ): Promise<"created" | "exists"> {
    const path = this.blobPath(digest);
    if (await this.touchIfPresent(path)) return "exists";
    await ensureDir(await this.confine.check(this.blobsDir));
    await writeStreamVerified(path, digestHex(digest)!, body, digest);
    return "created";
  }

  async writeBlob(data: Buffer | string): Promise<{ digest: string; size: number }> {
    const buf = typeof data === "string" ? Buffer.from(data) : data;
    const digest = `sha256:${sha256Hex(buf)}`;
    const path = this.blobPath(digest);
    if (!(await this.touchIfPresent(path))) {
      await ensureDir(await this.confine.check(this.blobsDir));
      await writeFileAtomic(path, buf);
    }
    return { digest, size: buf.length };
  }

  async readBlob(digest: string): Promise<Buffer> {
    return readFile(await this.blobFile(digest));
  }

  /** The path of a stored blob, checked to lead nowhere outside the models directory. */
  async blobFile(digest: string): Promise<string> {
    return this.confine.check(this.blobPath(digest));
  }

  /** Size of a stored blob, or undefined when it is not here. */
  async blobSize(digest: string): Promise<number | undefined> {
    const path = this.blobPath(digest);
    if (!(await this.isFile(path))) return undefined;
    return stat(path).then((s) => (s.isFile() ? s.size : undefined), () => undefined);
  }

  /** The resumable download state of a blob (registry pulls write through it). */
  partialBlob(digest: string): PartialBlob {
    const path = this.blobPath(digest); // validates the digest
    return new PartialBlob(this.blobsDir, digestHex(digest)!, path);
  }

  /** Before a download writes its partial files: they must stay inside, so planted links are dropped. */
  async preparePartial(digest: string): Promise<void> {
    const hex = digestHex(digest);
    if (!hex) throw badRequest("invalid digest format");
    await dropLinks(await this.confine.check(this.blobsDir), `sha256-${hex}-partial`);
  }

  // A fresh mtime keeps an uploaded-but-not-yet-referenced blob safe from the startup prune.
  private async touchIfPresent(path: string): Promise<boolean> {
    if (!(await this.isFile(path))) return false;
    const now = new Date();
    await utimes(path, now, now).catch(() => {});
    return true;
  }

  // ---- manifests ----

  private manifestPath(name: ModelName): string {
    if (!isValidName(name)) throw badRequest("invalid model name");
    return join(this.manifestsDir, ...partsOf(name));
  }

  /** Per-level case-insensitive match against existing manifests; exact spelling preferred. */
  async resolveName(name: ModelName): Promise<ModelName | undefined> {
    if (!isValidName(name)) return undefined;
    const want = partsOf(name);
    const walk = async (dir: string, i: number, got: string[]): Promise<string[] | undefined> => {
      const lc = want[i]!.toLowerCase();
      const candidates = (await this.listDir(dir))
        .filter((e) => e.toLowerCase() === lc && isValidPart(PARTS[i]!, e))
        .sort((a, b) => Number(b === want[i]) - Number(a === want[i]));
      for (const c of candidates) {
        const path = join(dir, c);
        const found = i === 3 ? ((await this.isFile(path)) ? [...got, c] : undefined) : await walk(path, i + 1, [...got, c]);
        if (found) return found;
      }
      return undefined;
    };
    const parts = await walk(this.manifestsDir, 0, []);
    return parts && nameOf(parts);
  }

  /** Where a manifest for `name` goes: an existing case-insensitive match, else existing directory spellings + the rest as given. */
  private async writeTarget(name: ModelName): Promise<ModelName> {
    const existing = await this.resolveName(name);
    if (existing) return existing;
    const want = partsOf(name);
    const out: string[] = [];
    let dir: string | undefined = this.manifestsDir;
    for (let i = 0; i < 4; i++) {
      const entries: string[] = dir && i < 3 ? await this.listDir(dir) : [];
      const match: string | undefined =
        entries.find((e) => e === want[i]) ??
        entries.find((e) => e.toLowerCase() === want[i]!.toLowerCase() && isValidPart(PARTS[i]!, e));
      out.push(match ?? want[i]!);
      dir = match && dir ? join(dir, match) : undefined;
    }
    return nameOf(out);
  }

  private async readStored(name: ModelName): Promise<StoredManifest> {
    const path = await this.confine.check(this.manifestPath(name));
    const raw = await readFile(path);
    let manifest: Manifest;
    try {
      manifest = parseManifest(raw);
    } catch (e) {
      throw new Error(`corrupt manifest ${path}: ${(e as Error).message}`);
    }
    const st = await stat(path);
    return { name, manifest, raw, digest: sha256Hex(raw), size: manifestSize(manifest), modifiedAt: st.mtime };
  }

  /** Where the manifest of `name` is (or would be) stored, as spelled; for messages that name the file. */
  manifestFile(name: ModelName): string {
    return this.manifestPath(name);
  }

  /** undefined when no manifest matches; throws if the manifest file is corrupt. */
  async readManifest(name: ModelName): Promise<StoredManifest | undefined> {
    const resolved = await this.resolveName(name);
    return resolved && this.readStored(resolved).catch((e) => (isMissing(e) ? undefined : Promise.reject(e)));
  }

  async writeManifest(name: ModelName, manifest: Manifest): Promise<void> {
    return this.putManifest(name, encodeManifest(manifest), manifest);
  }

  async writeManifestRaw(name: ModelName, raw: Buffer): Promise<void> {
    let manifest: Manifest;
    try {
      manifest = parseManifest(raw);
    } catch (e) {
      throw new ApiError(500, (e as Error).message);
    }
    return this.putManifest(name, raw, manifest);
  }

  private async putManifest(name: ModelName, raw: Buffer, manifest: Manifest): Promise<void> {
    this.manifestPath(name); // validates
    return this.serial(async () => {
      for (const d of manifestDigests(manifest)) {
        if (!(await this.hasBlob(d))) throw new ApiError(500, `blob "${d}" not found`);
      }
      const target = await this.writeTarget(name);
      const path = this.manifestPath(target);
      // A link in the manifest's place is replaced, never read or written through.
      const old = !(await this.isFile(path)) ? [] : await readFile(path).then(
        (b) => manifestDigests(parseManifest(b)),
        () => [] as string[],
      );
      await ensureDir(await this.confine.check(dirname(path)));
      await writeFileAtomic(path, raw);
      if (!this.noPrune) await this.removeUnreferenced(old);
    });
  }

  /** Copies the manifest bytes; the destination is overwritten, copying onto itself does nothing. */
  async copyModel(src: ModelName, dst: ModelName): Promise<void> {
    const from = await this.resolveName(src);
    if (!from) throw notFound(`model "${displayShortest(src)}" not found`);
    const to = await this.writeTarget(dst);
    if (this.manifestPath(from) === this.manifestPath(to)) return;
    const raw = await readFile(this.manifestPath(from));
    await this.putManifest(to, raw, parseManifest(raw));
  }

  /** false when there is no such model. Blob cleanup ignores noPrune, as Ollama's delete does. */
  async deleteModel(name: ModelName): Promise<boolean> {
    return this.serial(async () => {
      const resolved = await this.resolveName(name);
      if (!resolved) return false;
      const path = this.manifestPath(resolved);
      const digests = await readFile(path).then(
        (b) => manifestDigests(parseManifest(b)),
        () => [] as string[],
      );
      await unlink(path);
      await syncDir(dirname(path)); // the manifest is gone for good before its blobs go
      await this.removeEmptyParents(dirname(path));
      await this.removeUnreferenced(digests);
      return true;
    });
  }

  async list(): Promise<StoredManifest[]> {
    const out: StoredManifest[] = [];
    for (const name of await this.manifestNames()) {
      try {
        out.push(await this.readStored(name));
      } catch (e) {
        if (!isMissing(e)) warn(`skipping manifest ${displayShortest(name)}: ${(e as Error).message}`);
      }
    }
    return out;
  }

  /** Every valid manifests/<host>/<ns>/<model>/<tag> file. */
  private async manifestNames(): Promise<ModelName[]> {
    const names: ModelName[] = [];
    const walk = async (dir: string, got: string[]) => {
      const i = got.length;
      for (const e of await this.listDir(dir)) {
        if (!isValidPart(PARTS[i]!, e)) continue;
        const path = join(dir, e);
        if (i === 3) {
          if (await this.isFile(path)) names.push(nameOf([...got, e]));
        } else await walk(path, [...got, e]);
      }
    };
    await walk(this.manifestsDir, []);
    return names;
  }

  /** Hex digests referenced by any manifest, or undefined if some manifest cannot be read. */
  private async referencedDigests(): Promise<Set<string> | undefined> {
    const refs = new Set<string>();
    for (const name of await this.manifestNames()) {
      try {
        const m = parseManifest(await readFile(this.manifestPath(name)));
        for (const d of manifestDigests(m)) {
          const hex = digestHex(d);
          if (hex) refs.add(hex);
        }
      } catch (e) {
        warn(`manifest ${displayShortest(name)} is unreadable (${(e as Error).message}); not removing any blobs`);
        return undefined;
      }
    }
    return refs;
  }

  private async removeUnreferenced(digests: string[]): Promise<void> {
    if (digests.length === 0 || !(await this.confine.inside(this.blobsDir))) return;
    const refs = await this.referencedDigests();
    if (!refs) return;
    for (const d of new Set(digests)) {
      const hex = digestHex(d);
      if (hex && !refs.has(hex)) await unlink(this.blobPath(d)).catch(() => {});
    }
  }

  private async removeEmptyParents(dir: string): Promise<void> {
    while (dir.startsWith(this.manifestsDir + sep)) {
      try {
        await rmdir(dir);
      } catch {
        return;
      }
      dir = dirname(dir);
    }
  }

  // ---- partial downloads ----

  /** Every partial download on disk (of a blob not yet in place), whatever its age. */
  async partials(): Promise<PartialInfo[]> {
    const out: PartialInfo[] = [];
    for (const hex of await partialHexes(this.blobsDir)) {
      if (await this.hasBlob(`sha256:${hex}`)) continue; // finished; its leftovers go at the next start
      const info = await this.partialBlob(`sha256:${hex}`).info();
      if (info) out.push(info);
    }
    return out;
  }

  // ---- startup ----

  async init(): Promise<void> {
    await ensureDir(this.blobsDir);
    await ensureDir(this.manifestsDir);
    // Startup repairs and prunes only directories that are really inside the root.
    if (!(await this.confine.inside(this.blobsDir)) || !(await this.confine.inside(this.manifestsDir))) {
      warn(`blobs/ or manifests/ leads out of ${this.root}: no startup cleanup`);
      return;
    }
    await recoverStore({
      blobsDir: this.blobsDir,
      manifestsDir: this.manifestsDir,
      noPrune: this.noPrune,
      referenced: () => this.referencedDigests(),
      warn,
    });
  }
}
