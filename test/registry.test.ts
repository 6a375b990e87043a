// Pull and push against a real registry (Debian's docker-registry on loopback): the round trip, the
// progress lines, errors, shared downloads, cross-repository mounts, and create's `from` pull.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Registry } from "../src/registry/service.js";
import { buildManifest, CONFIG_MEDIA_TYPE, MEDIA_TYPE } from "../src/store/manifest.js";
import { ModelStore } from "../src/store/store.js";
import { createFromGguf, freePort, ndjson, post, postJson, startTestServer, STORIES, type TestServer } from "./support/server.js";
import { parseMetrics } from "./support/metrics.js";
import { blobOf, seedModel, type CountingProxy, type TestRegistry } from "./support/registry.js";
import { startRegistryStack, stopRegistryStack } from "./support/registry-stack.js";

let registry: TestRegistry;
let proxy: CountingProxy;
let srv: TestServer;

before(async () => ({ registry, proxy, srv } = await startRegistryStack()));
after(() => stopRegistryStack({ registry, proxy, srv }));

const manifestFile = (models: string, host: string, ns: string, model: string, tag: string) => join(models, "manifests", host, ns, model, tag);

async function blobNames(models: string): Promise<string[]> {
  return (await readdir(join(models, "blobs"))).sort();
}

async function registryBytes(direction: "pull" | "push"): Promise<number> {
  const res = await fetch(`${srv.url}/metrics`);
  return parseMetrics(await res.text()).value("corral_registry_bytes_total", { direction }) ?? -1;
}

async function generate(url: string, model: string): Promise<string> {
  const res = await postJson(url, "/api/generate", {
    model, prompt: "Once upon a time", stream: false, options: { temperature: 0, top_k: 1, seed: 1, num_predict: 24 },
  });
  assert.equal(res.status, 200, res.text);
  return res.json.response;
}

test("push, delete, pull: the same manifest, the same blobs, the same greedy generation", async () => {
  const name = `${registry.host}/corral/stories:v1`;
  await createFromGguf(srv.url, name, STORIES, { system: "You tell stories.", parameters: { temperature: 0.5 } });
  const manifestPath = manifestFile(srv.models, registry.host, "corral", "stories", "v1");
  const original = await readFile(manifestPath);
  const blobsBefore = await blobNames(srv.models);
  const before = await generate(srv.url, name);

  const push = await post(srv.url, "/api/push", { model: name, insecure: true });
  assert.equal(push.status, 200);
  assert.match(push.headers.get("content-type") ?? "", /application\/x-ndjson/);
  const pushLines = await ndjson(push);
  const statuses = pushLines.map((l) => l.status);
  assert.equal(statuses[0], "retrieving manifest");
  assert.deepEqual(statuses.slice(-2), ["pushing manifest", "success"]);
  const layers = JSON.parse(original.toString()).layers as { digest: string; size: number }[];
  for (const l of layers) {
    const lines = pushLines.filter((p) => p.digest === l.digest);
    assert.ok(lines.length > 0, `no progress for ${l.digest}`);
    assert.equal(lines[0].status, `pushing ${l.digest.slice(7, 19)}`);
    assert.deepEqual([lines.at(-1).total, lines.at(-1).completed], [l.size, l.size]);
  }
  // Every blob crossed the network (the registry had none), and /metrics counted it.
  const manifest = JSON.parse(original.toString()) as { config: { size: number } };
  const blobBytes = layers.reduce((n, l) => n + l.size, manifest.config.size);
  assert.ok((await registryBytes("push")) >= blobBytes);
  assert.equal(await registryBytes("pull"), 0);

  assert.equal((await postJson(srv.url, "/api/delete", { model: name }, "DELETE")).status, 200);
  assert.deepEqual(await blobNames(srv.models), []);

  const pull = await post(srv.url, "/api/pull", { model: name, insecure: true });
  assert.equal(pull.status, 200);
  const pullLines = await ndjson(pull);
  const pulled = pullLines.map((l) => l.status);
  assert.equal(pulled[0], "pulling manifest");
  assert.deepEqual(pulled.slice(-3), ["verifying sha256 digest", "writing manifest", "success"]);
  for (const l of pullLines.filter((p) => p.digest)) {
    assert.equal(l.status, `pulling ${l.digest.slice(7, 19)}`);
    assert.ok(!("completed" in l) || l.completed > 0, "completed is omitted while 0");
  }
  // Layers are pulled one after another, in manifest order, the config last.
  const order = [...new Set(pullLines.filter((p) => p.digest).map((p) => p.digest))];
  assert.deepEqual(order, [...layers.map((l) => l.digest), JSON.parse(original.toString()).config.digest]);
  assert.ok((await registryBytes("pull")) >= blobBytes);

  assert.deepEqual(await readFile(manifestPath), original, "the manifest is stored byte for byte");
  assert.deepEqual(await blobNames(srv.models), blobsBefore);
  const tags = (await postJson(srv.url, "/api/tags", undefined, "GET")).json.models;
  assert.ok(tags.some((m: { name: string }) => m.name === name));
  assert.equal(await generate(srv.url, name), before);
});

test("pulling again skips blobs already present; stream:false answers one object", async () => {
  const name = `${registry.host}/corral/stories:v1`;
  const res = await post(srv.url, "/api/pull", { name, insecure: true });
  const lines = await ndjson(res);
  for (const l of lines.filter((p) => p.digest)) assert.equal(l.completed, l.total, "one line, complete");
  assert.equal(lines.filter((p) => p.digest).length, new Set(lines.filter((p) => p.digest).map((p) => p.digest)).size);

  const single = await postJson(srv.url, "/api/pull", { model: name, insecure: true, stream: false });
  assert.deepEqual([single.status, single.json], [200, { status: "success" }]);
  assert.match(single.headers.get("content-type") ?? "", /application\/json/);
  const pushed = await postJson(srv.url, "/api/push", { model: name, insecure: true, stream: false });
  assert.deepEqual([pushed.status, pushed.json], [200, { status: "success" }]);
});

test("errors: unknown model or tag, unreachable registry, http without insecure, https by default", async () => {
  const missing = await post(srv.url, "/api/pull", { model: `${registry.host}/corral/nothing:here`, insecure: true });
  assert.equal(missing.status, 200);
  assert.deepEqual(await ndjson(missing), [{ status: "pulling manifest" }, { error: "pull model manifest: file does not exist" }]);
  const tag = await postJson(srv.url, "/api/pull", { model: `${registry.host}/corral/stories:nope`, insecure: true, stream: false });
  assert.deepEqual([tag.status, tag.json], [500, { error: "pull model manifest: file does not exist" }]);

  const port = await freePort();
  const down = await postJson(srv.url, "/api/pull", { model: `127.0.0.1:${port}/corral/x`, insecure: true, stream: false });
  assert.equal(down.status, 500);
  assert.equal(down.json.error, `pull model manifest: Get "http://127.0.0.1:${port}/v2/corral/x/manifests/latest": dial tcp 127.0.0.1:${port}: connect: connection refused`);

  const scheme = await postJson(srv.url, "/api/pull", { model: `http://${registry.host}/corral/stories:v1` });
  assert.deepEqual([scheme.status, scheme.json], [500, { error: "insecure protocol http" }]);

  // Without insecure the registry is spoken to over TLS, which this plain-http registry cannot answer.
  const tls = await postJson(srv.url, "/api/pull", { model: `${registry.host}/corral/stories:v1`, stream: false });
  assert.equal(tls.status, 500);
  assert.match(tls.json.error, new RegExp(`^pull model manifest: Get "https://${registry.host}/v2/corral/stories/manifests/v1"`));

  assert.deepEqual((await postJson(srv.url, "/api/pull", { model: "a/b/c/d" })).json, { error: "invalid model name" });
  assert.deepEqual((await postJson(srv.url, "/api/push", {})).json, { error: "model is required" });
  const absent = await post(srv.url, "/api/push", { model: `${registry.host}/corral/absent`, insecure: true });
  const lines = await ndjson(absent);
  assert.deepEqual(lines.slice(0, 2), [{ status: "retrieving manifest" }, { status: "couldn't retrieve manifest" }]);
  assert.match(lines[2].error, /^open .*manifests\/127\.0\.0\.1:\d+\/corral\/absent\/latest: no such file or directory$/);
});

test("concurrent pulls of one model share each blob's download", async () => {
  const blob = blobOf(6 << 20, 1);
  await seedModel(registry.url, "corral/shared", "latest", [blob]);
  const name = `${proxy.host}/corral/shared`;
  const before = proxy.blobBytes();
  const [a, b] = await Promise.all([
    postJson(srv.url, "/api/pull", { model: name, insecure: true, stream: false }),
    postJson(srv.url, "/api/pull", { model: name, insecure: true, stream: false }),
  ]);
  assert.deepEqual([a.json, b.json], [{ status: "success" }, { status: "success" }]);
  const served = proxy.blobBytes() - before;
  assert.ok(served < 2 * blob.length, `served ${served} bytes for a ${blob.length}-byte blob`);
});

test("pushing a model derived from one on the same registry mounts its weights instead of uploading them", async () => {
  const base = `${proxy.host}/corral/base`;
  await createFromGguf(srv.url, base, STORIES);
  assert.equal((await postJson(srv.url, "/api/push", { model: base, insecure: true, stream: false })).status, 200);
  const derived = `${proxy.host}/corral/derived`;
  const created = await postJson(srv.url, "/api/create", { model: derived, from: base, system: "Derived.", stream: false });
  assert.equal(created.status, 200, created.text);
  const mark = proxy.requests.length;
  const push = await postJson(srv.url, "/api/push", { model: derived, insecure: true, stream: false });
  assert.equal(push.status, 200, push.text);
  const seen = proxy.requests.slice(mark);
  const mount = seen.find((r) => r.method === "POST" && r.path.endsWith("/corral/derived/blobs/uploads/") && r.status === 201);
  assert.ok(mount, "a mount that the registry accepted");
  const uploaded = seen.filter((r) => r.method === "PATCH").reduce((n, r) => n + r.sent, 0);
  assert.ok(uploaded < 4096, `only the small new layers are uploaded (${uploaded} bytes)`);
});

test("create from a model that is not here pulls it first, inside the create stream", async () => {
  await seedModel(registry.url, "corral/remote-base", "latest", [await readFile(STORIES)]);
  const other = await startTestServer({ CORRAL_INSECURE_REGISTRIES: registry.host });
  try {
    const res = await post(other.url, "/api/create", { model: "local-derived", from: `${registry.host}/corral/remote-base`, system: "Hi." });
    const statuses = (await ndjson(res)).map((l) => l.status ?? `error: ${l.error}`);
    assert.equal(statuses[0], "pulling manifest", statuses.join("|"));
    assert.ok(statuses.some((s) => /^pulling [0-9a-f]{12}$/.test(s)));
    assert.ok(statuses.indexOf("success") < statuses.lastIndexOf("success"), "the pull's success, then the create's");
    assert.equal(statuses.at(-1), "success");
    const show = await postJson(other.url, "/api/show", { model: "local-derived" });
    assert.equal(show.status, 200);
    assert.equal(show.json.system, "Hi.");
    // Non-streaming, the failed pull is the reply itself (streaming, it is the last line after "pulling manifest").
    const missing = await postJson(other.url, "/api/create", { model: "x", from: `${registry.host}/corral/no-such-base`, stream: false });
    assert.deepEqual([missing.status, missing.json], [404, { error: "pull model manifest: file does not exist" }]);
  } finally {
    await other.stop();
  }
});

test("a new version of a tag replaces the old one and its layers no other model uses are removed", async () => {
  const first = blobOf(1 << 20, 2);
  const second = blobOf(1 << 20, 3);
  const model = `${registry.host}/corral/moving:latest`;
  const a = await seedModel(registry.url, "corral/moving", "latest", [first]);
  assert.deepEqual((await postJson(srv.url, "/api/pull", { model, insecure: true, stream: false })).json, { status: "success" });
  const b = await seedModel(registry.url, "corral/moving", "latest", [second]);
  const statuses = (await ndjson(await post(srv.url, "/api/pull", { model, insecure: true }))).map((l) => l.status);
  assert.deepEqual(statuses.slice(-4), ["verifying sha256 digest", "writing manifest", "removing unused layers", "success"]);
  const blobs = await blobNames(srv.models);
  assert.ok(!blobs.includes(a.digests[0]!.replace(":", "-")), "the old layer is gone");
  assert.ok(blobs.includes(b.digests[0]!.replace(":", "-")));
  assert.deepEqual(await readFile(manifestFile(srv.models, registry.host, "corral", "moving", "latest")), b.manifest);
});

test("large blobs go up in parts and come down in parallel ranged parts (in process, small parts)", async () => {
  const root = await mkdtemp(join(tmpdir(), "corral-parts-"));
  try {
    const tuning = { partSize: 1 << 20, backoffMs: 50 };
    const settings = { authFile: join(root, "none.json"), insecureHosts: [], noPrune: false, tuning };
    const source = new ModelStore(join(root, "a"));
    await source.init();
    const weights = await source.writeBlob(blobOf((5 << 20) + 123, 4));
    const config = await source.writeBlob('{"model_format":"gguf"}\n');
    const name = { host: proxy.host, namespace: "corral", model: "parts", tag: "latest" };
    await source.writeManifest(name, buildManifest({ mediaType: CONFIG_MEDIA_TYPE, ...config }, [{ mediaType: MEDIA_TYPE.model, ...weights }]));
    const mark = proxy.requests.length;
    const pushed: { status: string }[] = [];
    await new Registry(source, settings).push(name, { insecure: true }, (p) => pushed.push(p));
    const patches = proxy.requests.slice(mark).filter((r) => r.method === "PATCH");
    assert.equal(patches.length, 7, "six parts of the weights and one for the config");
    assert.deepEqual(pushed.at(-1), { status: "success" });

    const target = new ModelStore(join(root, "b"));
    await target.init();
    const from = proxy.requests.length;
    await new Registry(target, settings).pull(name, { insecure: true }, () => {});
    const ranges = proxy.requests.slice(from).filter((r) => r.method === "GET" && r.path.endsWith(weights.digest)).map((r) => r.range);
    assert.ok(ranges.filter((r) => r?.startsWith("bytes=") && r !== "bytes=0-0").length >= 6, ranges.join(" "));
    assert.ok((await target.readBlob(weights.digest)).equals(await source.readBlob(weights.digest)));
    assert.deepEqual((await target.readManifest(name))?.raw, (await source.readManifest(name))?.raw);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});
