// The local files a Modelfile's FROM / ADAPTER / DRAFT lines name: path expansion (absolute, ~,
// ~user, else relative to the Modelfile), the model files of a directory (GGUF, safetensors,
// PyTorch, plus their JSON and tokenizer files), and their sha256 digests.
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { open, readdir, readFile, realpath, stat } from "node:fs/promises";
import { homedir } from "node:os";
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from "node:path";
import type { PathResolver } from "../../create/modelfile.js";
import { splitFileName, splitPartName } from "../../gguf/split.js";

async function userHome(user: string): Promise<string> {
  const passwd = await readFile("/etc/passwd", "utf8").catch(() => "");
  for (const entry of passwd.split("\n")) {
    const fields = entry.split(":");
    if (fields[0] === user && fields[5]) return fields[5];
  }
  throw new Error(`failed to find user '${user}': user: unknown user ${user}`);
}

/** Absolute path for a Modelfile argument: absolute as is, `~` and `~user` expanded, else relative to `dir`. */
export async function expandPath(arg: string, dir: string): Promise<string> {
  if (isAbsolute(arg) || arg.startsWith("\\")) return resolve(arg);
  if (arg === "~" || arg.startsWith("~/")) return resolve(join(homedir(), arg.slice(1)));
  if (arg.startsWith("~")) {
    const [user, rest = ""] = arg.slice(1).split(/\/(.*)/s);
    return resolve(join(await userHome(user!), rest));
  }
  return resolve(dir, arg);
}

export async function fileDigest(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return `sha256:${hash.digest("hex")}`;
}

type ContentType = "application/zip" | "text/plain" | "application/octet-stream";

/** The little of Go's http.DetectContentType that tells model files from text (e.g. Git LFS pointers). */
async function contentType(path: string): Promise<ContentType> {
  const fh = await open(path, "r");
  try {
    const buf = Buffer.alloc(512);
    const { bytesRead } = await fh.read(buf, 0, 512, 0);
    const head = buf.subarray(0, bytesRead);
    if (head.subarray(0, 4).equals(Buffer.from("PK\x03\x04", "latin1"))) return "application/zip";
    const binary = head.some((b) => b <= 0x08 || b === 0x0b || (b >= 0x0e && b <= 0x1a) || (b >= 0x1c && b <= 0x1f));
    return binary ? "application/octet-stream" : "text/plain";
  } finally {
    await fh.close();
  }
}

function wildcard(pattern: string): RegExp {
  return new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".")}$`);
}

async function filesIn(dir: string, name: RegExp): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  const out: string[] = [];
  for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
    if (!name.test(e.name)) continue;
    const p = join(dir, e.name);
    if ((await stat(p).catch(() => undefined))?.isFile()) out.push(p);
  }
  return out;
}

async function subdirs(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  const out: string[] = [];
  for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const p = join(dir, e.name);
    if ((await stat(p).catch(() => undefined))?.isDirectory()) out.push(p);
  }
  return out;
}

/** Files matching `pattern` in `dir` (and, with `nested`, in its direct subdirectories), checked for content type. */
async function glob(dir: string, pattern: string, expected?: ContentType, nested = false): Promise<string[]> {
  const re = wildcard(pattern);
  const dirs = nested ? await subdirs(dir) : [dir];
  const matches = (await Promise.all(dirs.map((d) => filesIn(d, re)))).flat();
  for (const m of matches) {
    if (expected && (await contentType(m)) !== expected) throw new Error(`invalid content type: expected ${expected} for ${m}`);
  }
  return matches;
}

/** The first pattern that matches wins; a content-type mismatch counts as no match. */
async function firstMatch(dir: string, candidates: [string, ContentType?][]): Promise<string[]> {
  for (const [pattern, type] of candidates) {
    const found = await glob(dir, pattern, type).catch(() => []);
    if (found.length) return pattern === "model*.safetensors" ? [...found, ...(await glob(dir, pattern, undefined, true))] : found;
  }
  throw new Error("no Modelfile or safetensors files found");
}

/** A model directory's files: its weights, then every config/tokenizer file beside them. */
async function modelDirFiles(dir: string): Promise<string[]> {
  const files = await firstMatch(dir, [
    ["model*.safetensors"],
    ["consolidated*.safetensors"],
    ["pytorch_model*.bin", "application/zip"],
    ["consolidated*.pth", "application/zip"],
    ["*.gguf", "application/octet-stream"],
    ["*.bin", "application/octet-stream"],
  ]);
  files.push(...(await glob(dir, "*.json", "text/plain")));
  files.push(...(await glob(dir, "*.json", "text/plain", true)));
  files.push(...(await glob(dir, "chat_template.jinja", "text/plain")));
  const tokenizer = await glob(dir, "tokenizer.model", "application/octet-stream").catch(() => []);
  files.push(...(tokenizer.length ? tokenizer : await glob(dir, "tokenizer.model", "text/plain", true).catch(() => [])));
  return files;
}

/** A split GGUF's first part brings the other parts beside it (the server merges them). */
async function splitSiblings(path: string): Promise<string[]> {
  const split = splitFileName(path);
  if (!split || split.index !== 0) return [path];
  const parts = [path];
  for (let i = 1; i < split.count; i++) {
    const p = join(dirname(path), splitPartName(basename(split.prefix), i, split.count));
    if ((await stat(p).catch(() => undefined))?.isFile()) parts.push(p);
  }
  return parts;
}

/**
 * The files at `path` (a file, or a model directory whose files must not escape it through
 * symlinks); undefined when nothing exists there.
 */
export async function localModelFiles(path: string): Promise<string[] | undefined> {
  const info = await stat(path).catch((e: NodeJS.ErrnoException) => {
    if (e.code === "ENOENT" || e.code === "ENOTDIR") return undefined;
    throw e;
  });
  if (!info) return undefined;
  if (!info.isDirectory()) return splitSiblings(path);
  const root = await realpath(path);
  const out: string[] = [];
  for (const f of await modelDirFiles(path)) {
    const real = await realpath(f);
    const rel = relative(root, real);
    if (rel.startsWith("..") || isAbsolute(rel)) {
      const hint = rel.includes(".cache") ? "\n\nUse --local-dir <dir> when downloading model to disable caching" : "";
      throw new Error(`insecure path: ${rel}${hint}`);
    }
    out.push(real);
  }
  return out;
}

/** A resolver for the Modelfile mapping: paths relative to `modelfileDir`, answering absolute file path -> digest. */
export function pathResolver(modelfileDir: string): PathResolver {
  return async (instruction, arg) => {
    const path = await expandPath(arg, modelfileDir);
    const files = await localModelFiles(path);
    if (!files) {
      if (instruction === "from") return undefined;
      throw new Error(`stat ${path}: no such file or directory`);
    }
    const digests: Record<string, string> = {};
    for (const f of files) digests[f] = await fileDigest(f);
    return digests;
  };
}

/** The common parent directory of all files, when there are at least two. */
function commonRoot(paths: string[]): string | undefined {
  if (paths.length < 2) return undefined;
  let root = dirname(paths[0]!);
  for (const p of paths.slice(1)) {
    while (relative(root, dirname(p)).startsWith("..")) {
      const parent = dirname(root);
      if (parent === root) return undefined;
      root = parent;
    }
  }
  return root;
}

/** Names the server sees: base names, or paths relative to the files' common parent (so nested config.json keeps its folder). */
export function requestFileNames(paths: string[]): Map<string, string> {
  const root = commonRoot(paths);
  const names = new Map<string, string>();
  for (const p of paths) {
    const rel = root ? relative(root, p) : "";
    const name = rel && !rel.startsWith("..") ? rel : basename(p);
    names.set(p, name.split(sep).join("/"));
  }
  return names;
}
