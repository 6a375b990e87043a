// Crash-safety helpers: a seeded pseudo-random source for kill points, and the checks a models
// directory must pass after any crash (every manifest readable, its blobs present with the right
// sha256 and size, no temp file left, no scratch directory left, /api/tags answering).
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { lstat, readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { manifestDigests, parseManifest } from "../../src/store/manifest.js";
import { parseModelName } from "../../src/store/name.js";

/** CORRAL_CRASH_SEED and CORRAL_CRASH_KILLS, with small defaults so the suite stays quick. */
export function crashSettings(): { seed: number; kills: number } {
  const seed = Number(process.env.CORRAL_CRASH_SEED ?? 20261205);
  const kills = Number(process.env.CORRAL_CRASH_KILLS ?? 5);
  if (!Number.isSafeInteger(seed)) throw new Error(`CORRAL_CRASH_SEED must be an integer, not ${process.env.CORRAL_CRASH_SEED}`);
  if (!Number.isSafeInteger(kills) || kills < 0) throw new Error(`CORRAL_CRASH_KILLS must be a count, not ${process.env.CORRAL_CRASH_KILLS}`);
  return { seed, kills };
}

/** mulberry32: a small deterministic generator of floats in [0, 1). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export async function sha256OfFile(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

/** Every file under `dir`, as paths relative to it. */
async function walk(dir: string, rel = ""): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(join(dir, rel)).catch(() => [] as string[])) {
    const path = join(rel, e);
    const st = await lstat(join(dir, path));
    if (st.isDirectory()) out.push(...(await walk(dir, path)));
    else out.push(path);
  }
  return out;
}

export interface StoreReport {
  /** Names of the manifests on disk, `host/ns/model:tag`. */
  manifests: string[];
  blobs: number;
}

/**
 * The models directory is consistent: every manifest parses, each of its blobs exists with the size
 * the manifest gives and the sha256 its name says; no temp files anywhere; no scratch directory of a
 * create left in `scratch`; /api/tags answers and lists exactly the manifests on disk.
 */
export async function checkStore(url: string, models: string, scratch?: string): Promise<StoreReport> {
  const manifests: string[] = [];
  const checked = new Set<string>();
  for (const rel of await walk(join(models, "manifests"))) {
    assert.ok(!rel.split("/").some((p) => p.startsWith(".")), `a temp file is left under manifests/: ${rel}`);
    const [host, ns, model, tag] = rel.split("/");
    const name = `${host}/${ns}/${model}:${tag}`;
    assert.ok(parseModelName(name), `not a model name: ${rel}`);
    const manifest = parseManifest(await readFile(join(models, "manifests", rel)));
    const sizes = new Map([manifest.config, ...manifest.layers].map((l) => [l.digest, l.size]));
    for (const d of manifestDigests(manifest)) {
      const file = join(models, "blobs", d.replace(":", "-"));
      const st = await stat(file).catch(() => undefined);
      assert.ok(st?.isFile(), `${name}: blob ${d} is missing`);
      assert.equal(st!.size, sizes.get(d), `${name}: blob ${d} has the wrong size`);
      if (!checked.has(d)) {
        assert.equal(`sha256:${await sha256OfFile(file)}`, d, `${name}: blob ${d} does not match its digest`);
        checked.add(d);
      }
    }
    manifests.push(name);
  }
  const blobs = await readdir(join(models, "blobs")).catch(() => [] as string[]);
  const temps = blobs.filter((f) => f.startsWith("."));
  assert.deepEqual(temps, [], "temp files are left in blobs/");
  if (scratch) {
    const left = (await readdir(scratch)).filter((e) => e.startsWith("corral-create-"));
    assert.deepEqual(left, [], "scratch directories of killed creates are left");
  }
  const res = await fetch(`${url}/api/tags`);
  assert.equal(res.status, 200);
  const listed = ((await res.json()) as { models: { name: string }[] }).models.map((m) => m.name);
  assert.equal(listed.length, manifests.length, `tags ${JSON.stringify(listed)} vs manifests ${JSON.stringify(manifests)}`);
  return { manifests, blobs: checked.size };
}
