// The llama.cpp source that corral builds its engine from: the git bundle node-llama-cpp ships, the
// exact release its binding was built from, plus the patches node-llama-cpp applies to it and
// corral's own (llama-patches/ in this package).
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { createHash } from "node:crypto";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** corral's own patches, shipped with the package (this file runs from dist/src/engine/). */
const OWN_PATCHES = resolve(fileURLToPath(new URL(".", import.meta.url)), "../../../llama-patches");

export interface LlamaSource {
  /** The git bundle holding llama.cpp. */
  bundle: string;
  /** Patch files (node-llama-cpp's) applied after checkout, in name order. */
  patches: string[];
  /** The release tag the bundle was made from (e.g. v0.4.0). */
  tag: string;
  /** The bundle's head commit. */
  commit: string;
  /** Short hash of every patch's text: a changed patch is a different build. */
  patchHash: string;
}

/** node-llama-cpp's package folder, found through Node's own resolution. */
export function nodeLlamaCppDir(): string {
  const require = createRequire(import.meta.url);
  let dir = dirname(require.resolve("node-llama-cpp"));
  for (;;) {
    const pkg = join(dir, "package.json");
    if (existsSync(pkg) && JSON.parse(readFileSync(pkg, "utf8")).name === "node-llama-cpp") return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error("node-llama-cpp is not installed");
    dir = up;
  }
}

let cached: LlamaSource | undefined;

export function llamaSource(): LlamaSource {
  if (cached) return cached;
  const llama = join(nodeLlamaCppDir(), "llama");
  const bundle = join(llama, "gitRelease.bundle");
  if (!existsSync(bundle)) throw new Error(`no llama.cpp source bundle at ${bundle}`);
  const tag = (JSON.parse(readFileSync(join(llama, "llama.cpp.info.json"), "utf8")) as { tag: string }).tag;
  const heads = execFileSync("git", ["bundle", "list-heads", bundle], { encoding: "utf8" });
  const commit = /^([0-9a-f]{40})\s/m.exec(heads)?.[1];
  if (!commit) throw new Error(`cannot read the commit of ${bundle}`);
  const patches = [...patchFiles(join(llama, "patches")), ...patchFiles(OWN_PATCHES)];
  const hash = createHash("sha256");
  for (const p of patches) hash.update(readFileSync(p));
  cached = { bundle, patches, tag, commit, patchHash: hash.digest("hex").slice(0, 6) };
  return cached;
}

function patchFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith(".diff") || f.endsWith(".patch"))
    .sort()
    .map((f) => join(dir, f));
}
