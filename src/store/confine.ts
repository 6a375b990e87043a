// Confinement of the models directory: a symbolic link planted inside it (a blob linked to
// /etc/passwd, a manifests/ or blobs/ directory linked elsewhere) must never make the store read,
// list or write outside it. Every path is judged by its real path, links resolved.
import { lstat, readdir, realpath, stat, unlink } from "node:fs/promises";
import { dirname, join, sep } from "node:path";
import { ApiError } from "../api/errors.js";

const isMissing = (e: unknown) => ["ENOENT", "ENOTDIR"].includes((e as NodeJS.ErrnoException)?.code ?? "");

export class Confinement {
  constructor(readonly root: string) {}

  /**
   * Whether `path` is inside the root once every link is resolved. A path that does not exist yet
   * is judged by its nearest existing ancestor (where it would be created).
   */
  async inside(path: string): Promise<boolean> {
    let root: string;
    try {
      root = await realpath(this.root);
    } catch {
      return false;
    }
    for (let p = path; ; p = dirname(p)) {
      try {
        const real = await realpath(p);
        return real === root || real.startsWith(root.endsWith(sep) ? root : root + sep);
      } catch (e) {
        if (!isMissing(e) || dirname(p) === p) return false;
        // A dangling link is refused: what it names could appear later, anywhere.
        if (await lstat(p).then(() => true, () => false)) return false;
      }
    }
  }

  /** Throws unless `path` is inside the root. */
  async check(path: string): Promise<string> {
    if (!(await this.inside(path))) throw new ApiError(500, `refusing to follow a link out of the models directory: ${path}`);
    return path;
  }

  /** A regular file inside the root. */
  async isFile(path: string): Promise<boolean> {
    return (await this.inside(path)) && stat(path).then((s) => s.isFile(), () => false);
  }

  /** The entries of a directory inside the root; none for a missing one or one that leads out. */
  async listDir(dir: string): Promise<string[]> {
    if (!(await this.inside(dir))) return [];
    try {
      return await readdir(dir);
    } catch (e) {
      if (isMissing(e)) return [];
      throw e;
    }
  }
}

/** Removes the links among the entries of `dir` named `prefix*` (files the store would open for writing). */
export async function dropLinks(dir: string, prefix: string): Promise<void> {
  for (const e of await readdir(dir).catch(() => [] as string[])) {
    if (!e.startsWith(prefix)) continue;
    const path = join(dir, e);
    if ((await lstat(path).catch(() => undefined))?.isSymbolicLink()) await unlink(path).catch(() => {});
  }
}
