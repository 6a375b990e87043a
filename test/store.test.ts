import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdir, mkdtemp, readdir, readFile, rm, stat, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { ApiError } from "../src/api/errors.js";
import { goJson, sortKeysDeep } from "../src/store/gojson.js";
import { buildManifest, CONFIG_MEDIA_TYPE, encodeManifest, MEDIA_TYPE, type Layer } from "../src/store/manifest.js";
import { parseModelName, type ModelName } from "../src/store/name.js";
import { ModelStore } from "../src/store/store.js";

const sha = (s: string | Buffer) => createHash("sha256").update(s).digest("hex");
const name = (s: string): ModelName => parseModelName(s)!;
const HOUR = 3600 * 1000;

async function withStore(fn: (store: ModelStore, root: string) => Promise<void>, opts?: { noPrune?: boolean }) {
  const root = await mkdtemp(join(tmpdir(), "corral-store-"));
  try {
    const store = new ModelStore(root, opts);
    await store.init();
    await fn(store, root);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

/** Writes blobs for a model and returns its manifest. */
async function model(store: ModelStore, weights: string, extra: [string, string][] = []) {
  const config = await store.writeBlob(goJson({ model_format: "gguf" }) + "\n");
  const layers: Layer[] = [{ mediaType: MEDIA_TYPE.model, ...(await store.writeBlob(weights)) }];
  for (const [mediaType, text] of extra) layers.push({ mediaType, ...(await store.writeBlob(text)) });
  return buildManifest({ mediaType: CONFIG_MEDIA_TYPE, ...config }, layers);
}

const blobFiles = async (root: string) => (await readdir(join(root, "blobs"))).sort();

test("goJson matches Go's encoding/json", () => {
  assert.equal(goJson({ t: "<|eot_id|> & \u2028\u2029", n: 1e21, s: 1e-7, f: 0.7, a: [1, null, true] }),
    '{"t":"\\u003c|eot_id|\\u003e \\u0026 \\u2028\\u2029","n":1e+21,"s":1e-7,"f":0.7,"a":[1,null,true]}');
  assert.equal(goJson("\b\f\n\r\t\u0001\"\\"), '"\\b\\f\\n\\r\\t\\u0001\\"\\\\"');
  assert.equal(goJson("a\ud800b"), '"a\\ufffdb"');
  assert.equal(goJson({ b: 1, a: undefined, c: { z: 1, y: 2 } }), '{"b":1,"c":{"z":1,"y":2}}');
  assert.equal(goJson(sortKeysDeep({ temperature: 0.6, stop: ["<x>"], b: { d: 1, c: 2 } })),
    '{"b":{"c":2,"d":1},"stop":["\\u003cx\\u003e"],"temperature":0.6}');
  assert.equal(goJson({ b: 1, "10": 2, "2": 3 }, { sortKeys: true }), '{"10":2,"2":3,"b":1}');
  assert.equal(goJson(new Map([["b", 1], ["a", 2]])), '{"a":2,"b":1}');
  assert.equal(goJson(2n ** 64n), "18446744073709551616");
  assert.throws(() => goJson(NaN));
});

test("init creates the layout with 0755 directories", () => withStore(async (store, root) => {
  for (const d of ["blobs", "manifests"]) assert.equal((await stat(join(root, d))).mode & 0o777, 0o755);
  assert.equal(store.root, root);
}));

test("blob digests are validated", () => withStore(async (store) => {
  const hex = "a".repeat(64);
  assert.equal(store.blobPath(`sha256:${hex}`), join(store.root, "blobs", `sha256-${hex}`));
  assert.equal(store.blobPath(`sha256-${hex.toUpperCase()}`), join(store.root, "blobs", `sha256-${hex}`));
  for (const bad of ["", "sha256:abc", `sha256:${hex}0`, `sha512:${hex}`, `sha256:../../${hex.slice(6)}`, `sha256_${hex}`, ` sha256:${hex}`]) {
    assert.throws(() => store.blobPath(bad), (e: unknown) => e instanceof ApiError && e.status === 400 && e.message === "invalid digest format", bad);
  }
  await assert.rejects(store.hasBlob("nope"), /invalid digest format/);
}));

test("streamed blob upload: created, exists, 0644", () => withStore(async (store, root) => {
  const data = Buffer.alloc(3 * 1024 * 1024 + 17, 7); // spans several staging buffers
  const digest = `sha256:${sha(data)}`;
  const chunks = function* () { for (let i = 0; i < data.length; i += 65536) yield data.subarray(i, i + 65536); };
  assert.equal(await store.writeBlobStream(digest, Readable.from(chunks())), "created");
  assert.deepEqual(await readFile(store.blobPath(digest)), data);
  assert.equal((await stat(store.blobPath(digest))).mode & 0o777, 0o644);
  assert.equal(await store.hasBlob(digest.replace(":", "-")), true);
  let consumed = false;
  const untouched = (async function* () { consumed = true; yield Buffer.from("x"); })();
  assert.equal(await store.writeBlobStream(digest, untouched), "exists");
  assert.equal(consumed, false);
  assert.deepEqual(await blobFiles(root), [`sha256-${sha(data)}`]);
}));

test("streamed blob upload: digest mismatch leaves nothing behind", () => withStore(async (store, root) => {
  const digest = `sha256:${"0".repeat(64)}`;
  await assert.rejects(store.writeBlobStream(digest, Readable.from([Buffer.from("hello")])), (e: unknown) =>
    e instanceof ApiError && e.status === 400 &&
    e.message === `digest mismatch, expected "${digest}", got "sha256:${sha("hello")}"`);
  assert.deepEqual(await blobFiles(root), []);
  assert.equal(await store.hasBlob(digest), false);
}));

test("streamed blob upload: an aborted stream removes the temp file", () => withStore(async (store, root) => {
  const body = (async function* () {
    yield Buffer.alloc(2 * 1024 * 1024, 1);
    throw new Error("client went away");
  })();
  await assert.rejects(store.writeBlobStream(`sha256:${sha("whatever")}`, body), /client went away/);
  assert.deepEqual(await blobFiles(root), []);
}));

test("concurrent writers of the same blob both succeed", () => withStore(async (store, root) => {
  const data = Buffer.alloc(1024 * 1024, 3);
  const digest = `sha256:${sha(data)}`;
  const results = await Promise.all([
    store.writeBlobStream(digest, Readable.from([data.subarray(0, 100), data.subarray(100)])),
    store.writeBlobStream(digest, Readable.from([data])),
    store.writeBlob(data),
  ]);
  assert.ok(results.slice(0, 2).every((r) => r === "created" || r === "exists"));
  assert.deepEqual(await readFile(store.blobPath(digest)), data);
  assert.deepEqual(await blobFiles(root), [`sha256-${sha(data)}`]);
}));

test("writeBlob is content-addressed and idempotent", () => withStore(async (store, root) => {
  const a = await store.writeBlob("{\"stop\":[\"x\"]}\n");
  const b = await store.writeBlob(Buffer.from("{\"stop\":[\"x\"]}\n"));
  assert.deepEqual(a, b);
  assert.equal(a.digest, `sha256:${sha("{\"stop\":[\"x\"]}\n")}`);
  assert.equal(a.size, 15);
  assert.equal((await store.readBlob(a.digest)).toString(), "{\"stop\":[\"x\"]}\n");
  assert.equal((await blobFiles(root)).length, 1);
}));

test("manifest write, read, list", () => withStore(async (store, root) => {
  const m = await model(store, "weights", [[MEDIA_TYPE.template, "{{ .Prompt }}"]]);
  m.layers[0]!.from = "<parent>";
  await store.writeManifest(name("User/Model:Tag"), m);
  const path = join(root, "manifests", "registry.ollama.ai", "User", "Model", "Tag");
  const raw = await readFile(path);
  assert.deepEqual(raw, encodeManifest(m));
  assert.ok(raw.toString().endsWith("}\n"));
  assert.match(raw.toString(), /^\{"schemaVersion":2,"mediaType":"application\/vnd\.docker\.distribution\.manifest\.v2\+json","config":\{"mediaType":/);
  assert.match(raw.toString(), /"from":"\\u003cparent\\u003e"/);
  assert.equal((await stat(path)).mode & 0o777, 0o644);

  const got = (await store.readManifest(name("user/model:tag")))!;
  assert.deepEqual(got.name, { host: "registry.ollama.ai", namespace: "User", model: "Model", tag: "Tag" });
  assert.deepEqual(got.raw, raw);
  assert.equal(got.digest, sha(raw));
  assert.equal(got.size, m.config.size + 7 + 13);
  assert.deepEqual(got.manifest, m);
  assert.ok(got.modifiedAt instanceof Date);
  assert.equal(await store.readManifest(name("user/model:other")), undefined);
  assert.equal(await store.readManifest(name("model:tag")), undefined);

  const list = await store.list();
  assert.equal(list.length, 1);
  assert.equal(list[0]!.digest, sha(raw));
}));

test("case-insensitive resolution and writes go to the stored spelling", () => withStore(async (store, root) => {
  const m = await model(store, "w1");
  await store.writeManifest(name("Llama3.2:Latest"), m);
  assert.deepEqual(await store.resolveName(name("LLAMA3.2:LATEST")),
    { host: "registry.ollama.ai", namespace: "library", model: "Llama3.2", tag: "Latest" });
  assert.equal(await store.resolveName(name("llama3.3")), undefined);
  await store.writeManifest(name("llama3.2:LATEST"), await model(store, "w2"));
  assert.deepEqual(await readdir(join(root, "manifests", "registry.ollama.ai", "library")), ["Llama3.2"]);
  assert.deepEqual(await readdir(join(root, "manifests", "registry.ollama.ai", "library", "Llama3.2")), ["Latest"]);
  // A new tag of an existing model keeps the model directory's spelling and the client's tag.
  await store.writeManifest(name("LLAMA3.2:Q8"), await model(store, "w1")); // w1 was pruned with the old manifest
  assert.deepEqual((await readdir(join(root, "manifests", "registry.ollama.ai", "library", "Llama3.2"))).sort(), ["Latest", "Q8"]);
  assert.equal((await store.list()).length, 2);
}));

test("writing a manifest requires its blobs and a valid name", () => withStore(async (store, root) => {
  const m = await model(store, "w");
  m.layers.push({ mediaType: MEDIA_TYPE.system, digest: `sha256:${"1".repeat(64)}`, size: 3 });
  await assert.rejects(store.writeManifest(name("m"), m), /not found/);
  const bad = { host: "registry.ollama.ai", namespace: "..", model: "m", tag: "latest" };
  await assert.rejects(store.writeManifest(bad, await model(store, "w")), /invalid model name/);
  assert.deepEqual(await readdir(join(root, "manifests")), []);
}));

test("re-writing a manifest prunes the blobs only the old one used", async () => {
  for (const noPrune of [false, true]) {
    await withStore(async (store) => {
      const old = await model(store, "weights", [[MEDIA_TYPE.system, "old system"]]);
      await store.writeManifest(name("m"), old);
      await store.writeManifest(name("m"), await model(store, "weights", [[MEDIA_TYPE.system, "new system"]]));
      assert.equal(await store.hasBlob(old.layers[1]!.digest), noPrune);
      assert.equal(await store.hasBlob(old.layers[0]!.digest), true);
    }, { noPrune });
  }
});

test("copy duplicates the manifest bytes", () => withStore(async (store) => {
  await store.writeManifest(name("src"), await model(store, "w"));
  await store.copyModel(name("SRC"), name("other/dst:v1"));
  const a = (await store.readManifest(name("src")))!;
  const b = (await store.readManifest(name("other/dst:v1")))!;
  assert.deepEqual(b.raw, a.raw);
  assert.equal(b.digest, a.digest);
  await store.copyModel(name("src"), name("Src:LATEST")); // onto itself
  assert.equal((await store.list()).length, 2);
  await assert.rejects(store.copyModel(name("missing"), name("x")), (e: unknown) => e instanceof ApiError && e.status === 404);
}));

test("delete removes the manifest, empty dirs and unshared blobs", () => withStore(async (store, root) => {
  const a = await model(store, "shared weights", [[MEDIA_TYPE.system, "only a"]]);
  const b = await model(store, "shared weights", [[MEDIA_TYPE.system, "only b"]]);
  await store.writeManifest(name("ns/a"), a);
  await store.writeManifest(name("b"), b);
  assert.equal(await store.deleteModel(name("NS/A:latest")), true);
  assert.equal(await store.deleteModel(name("ns/a")), false);
  assert.equal(await store.hasBlob(a.layers[1]!.digest), false);
  assert.equal(await store.hasBlob(a.layers[0]!.digest), true); // still used by b
  assert.equal(await store.hasBlob(a.config.digest), true);
  assert.deepEqual(await readdir(join(root, "manifests", "registry.ollama.ai")), ["library"]);
  assert.equal(await store.deleteModel(name("b")), true);
  assert.deepEqual(await blobFiles(root), []);
  assert.deepEqual(await readdir(join(root, "manifests")), []);
}));

test("startup prune: old unreferenced blobs and strays go, young and referenced stay, partial downloads stay", async () => {
  const root = await mkdtemp(join(tmpdir(), "corral-store-"));
  try {
    const first = new ModelStore(root, { noPrune: true });
    await first.init();
    const m = await model(first, "kept weights");
    await first.writeManifest(name("keep"), m);
    const old = await first.writeBlob("old unreferenced");
    const young = await first.writeBlob("young unreferenced");
    const legacyHex = sha("legacy");
    await writeFile(join(root, "blobs", `sha256:${legacyHex}`), "legacy");
    const partial = join(root, "blobs", `sha256-${"b".repeat(64)}-partial`);
    await writeFile(partial, "partial data");
    const stray = join(root, "blobs", "not-a-blob");
    await writeFile(stray, "stray");
    await mkdir(join(root, "manifests", "registry.ollama.ai", "empty", "dir"), { recursive: true });
    const past = new Date(Date.now() - 2 * HOUR);
    for (const p of [first.blobPath(old.digest), first.blobPath(m.layers[0]!.digest), first.blobPath(m.config.digest), partial, stray])
      await utimes(p, past, past);

    await new ModelStore(root).init();
    const s = new ModelStore(root);
    assert.equal(await s.hasBlob(old.digest), false);
    assert.equal(await s.hasBlob(young.digest), true);
    assert.equal(await s.hasBlob(m.layers[0]!.digest), true);
    assert.equal(await s.hasBlob(m.config.digest), true);
    assert.equal(await s.hasBlob(`sha256:${legacyHex}`), true); // renamed, young
    assert.ok(!(await blobFiles(root)).some((f) => f.includes(":") || f === "not-a-blob"));
    // Unfinished downloads are never pruned, whatever their age: /api/partials lists them.
    assert.ok((await blobFiles(root)).includes(`sha256-${"b".repeat(64)}-partial`));
    assert.deepEqual(await readdir(join(root, "manifests", "registry.ollama.ai")), ["library"]);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test("startup prune is skipped when a manifest is corrupt; list skips it", async () => {
  const root = await mkdtemp(join(tmpdir(), "corral-store-"));
  try {
    const s = new ModelStore(root, { noPrune: true });
    await s.init();
    await s.writeManifest(name("good"), await model(s, "w"));
    const old = await s.writeBlob("old unreferenced");
    const past = new Date(Date.now() - 2 * HOUR);
    await utimes(s.blobPath(old.digest), past, past);
    await mkdir(join(root, "manifests", "registry.ollama.ai", "library", "bad"), { recursive: true });
    await writeFile(join(root, "manifests", "registry.ollama.ai", "library", "bad", "latest"), "{not json");

    await new ModelStore(root).init();
    assert.equal(await s.hasBlob(old.digest), true);
    const list = await s.list();
    assert.deepEqual(list.map((m) => m.name.model), ["good"]);
    await assert.rejects(s.readManifest(name("bad")), /corrupt manifest/);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test("writeManifestRaw stores bytes as given", () => withStore(async (store) => {
  const m = await model(store, "w");
  const raw = Buffer.from(JSON.stringify(m, null, 2)); // registry style, not Go-JSON
  await store.writeManifestRaw(name("h.io/ns/pulled:v"), raw);
  const got = (await store.readManifest(name("h.io/ns/pulled:v")))!;
  assert.deepEqual(got.raw, raw);
  assert.equal(got.digest, sha(raw));
  await assert.rejects(store.writeManifestRaw(name("x"), Buffer.from("[]")), /invalid manifest/);
}));
