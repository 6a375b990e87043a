// Pulls that go wrong, against a real registry behind a counting proxy that can hold a transfer
// mid-blob: the registry killed and restarted, corral killed with SIGKILL and restarted, the client
// going away, a blob corrupted on the registry, a full disk. Resumed pulls must not fetch again what
// they already had (measured as blob bytes the proxy served), and the store must stay consistent.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, open, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Repository } from "../src/registry/client.js";
import { Downloads } from "../src/registry/download.js";
import { ModelStore } from "../src/store/store.js";
import { ndjson, post, postJson, startTestServer, type TestServer } from "./support/server.js";
import { blobOf, seedModel, sha256, type CountingProxy, type TestRegistry } from "./support/registry.js";
import { startRegistryStack, stopRegistryStack } from "./support/registry-stack.js";

const MiB = 1 << 20;
/** What a resumed pull may fetch twice: progress not yet saved when the transfer broke, plus buffers. */
const SLACK = 20 * MiB;

let registry: TestRegistry;
let proxy: CountingProxy;
let srv: TestServer;

before(async () => ({ registry, proxy, srv } = await startRegistryStack()));
after(() => stopRegistryStack({ registry, proxy, srv }));

async function until(what: string, check: () => boolean | Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const blobPath = (models: string, digest: string) => join(models, "blobs", digest.replace(":", "-"));
const hasPartial = async (models: string, digest: string) =>
  (await readdir(join(models, "blobs")).catch(() => [] as string[])).some((f) => f.startsWith(`${digest.replace(":", "-")}-partial`));

/** Pulls until it succeeds (a pull that ran out of retries is simply asked again, as a user would). */
async function pullUntilDone(url: string, model: string): Promise<void> {
  for (let i = 0; i < 5; i++) {
    const res = await postJson(url, "/api/pull", { model, insecure: true, stream: false });
    if (res.status === 200) return;
  }
  throw new Error(`pull of ${model} never succeeded`);
}

test("the registry killed mid-download and restarted: the pull resumes where it stopped", async (t) => {
  const blob = blobOf(64 * MiB, 11);
  const { digests } = await seedModel(registry.url, "faults/registry-restart", "latest", [blob]);
  const model = `${proxy.host}/faults/registry-restart`;
  const start = proxy.blobBytes();
  const held = proxy.holdAt(start + 0.4 * blob.length);
  const first = postJson(srv.url, "/api/pull", { model, insecure: true, stream: false });
  await held;
  await registry.kill();
  proxy.release();
  await registry.restart();
  if ((await first).status !== 200) await pullUntilDone(srv.url, model);
  assert.ok((await readFile(blobPath(srv.models, digests[0]!))).equals(blob));
  const served = proxy.blobBytes() - start;
  t.diagnostic(`served ${served - blob.length} bytes beyond the blob's ${blob.length}`);
  assert.ok(served <= blob.length + SLACK, `served ${served} bytes for a ${blob.length}-byte blob`);
  assert.equal(await hasPartial(srv.models, digests[0]!), false, "no partial files are left");
});

test("parallel ranged parts survive a registry restart without fetching a part twice", async (t) => {
  const blob = blobOf(24 * MiB, 12);
  const layer = (await seedModel(registry.url, "faults/parts", "latest", [blob])).digests[0]!;
  const root = await mkdtemp(join(tmpdir(), "corral-parts-"));
  try {
    const store = new ModelStore(root);
    await store.init();
    const partSize = 4 * MiB;
    const downloads = new Downloads(store, { partSize, backoffMs: 100 });
    const repo = new Repository({ host: proxy.host, namespace: "faults", model: "parts", tag: "latest" }, true, {
      insecureHosts: [], authFile: join(root, "none.json"), userAgent: "corral-test",
    });
    const mark = proxy.requests.length;
    const start = proxy.blobBytes();
    const held = proxy.holdAt(start + blob.length / 2);
    const lines: { completed?: number }[] = [];
    const done = downloads.fetch(repo, { mediaType: "x", digest: layer, size: blob.length }, undefined, (p) => lines.push(p));
    await held;
    await registry.kill();
    proxy.release();
    await registry.restart();
    assert.equal(await done, false);

    assert.ok((await readFile(store.blobPath(layer))).equals(blob));
    const ranges = new Set(proxy.requests.slice(mark).filter((r) => r.method === "GET" && r.path.endsWith(layer)).map((r) => r.range));
    for (let off = 0; off < blob.length; off += partSize) {
      assert.ok(ranges.has(`bytes=${off}-${off + partSize - 1}`), `part at ${off} was asked for as a range`);
    }
    const served = proxy.blobBytes() - start;
    t.diagnostic(`served ${served - blob.length} bytes beyond the blob's ${blob.length}`);
    assert.ok(served <= blob.length + partSize, `served ${served} bytes, more than one part beyond ${blob.length}`);
    assert.ok(lines.some((l) => (l.completed ?? 0) < blob.length), "progress while downloading");
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test("corral killed with SIGKILL mid-pull and restarted: the pull resumes from the partial files", async (t) => {
  const blob = blobOf(64 * MiB, 13);
  const { digests } = await seedModel(registry.url, "faults/sigkill", "latest", [blob]);
  const model = `${proxy.host}/faults/sigkill`;
  const models = await mkdtemp(join(tmpdir(), "corral-sigkill-"));
  let server = await startTestServer({}, { models });
  try {
    const start = proxy.blobBytes();
    const held = proxy.holdAt(start + 0.5 * blob.length);
    const first = post(server.url, "/api/pull", { model, insecure: true }).then(ndjson).catch(() => []);
    await held;
    const exited = new Promise((r) => server.proc.once("exit", r));
    server.proc.kill("SIGKILL");
    await exited;
    await first;
    proxy.release();
    assert.equal(await hasPartial(models, digests[0]!), true, "the partial download is on disk");
    assert.equal(existsSync(join(models, "manifests", proxy.host)), false, "no manifest yet");

    server = await startTestServer({}, { models });
    await pullUntilDone(server.url, model);
    assert.ok((await readFile(blobPath(models, digests[0]!))).equals(blob));
    const served = proxy.blobBytes() - start;
    t.diagnostic(`served ${served - blob.length} bytes beyond the blob's ${blob.length}`);
    assert.ok(served <= blob.length + SLACK, `served ${served} bytes for a ${blob.length}-byte blob`);
  } finally {
    await server.stop();
    await rm(models, { recursive: true, force: true });
  }
});

test("a client that goes away stops its download; the next pull resumes it", async (t) => {
  const blob = blobOf(32 * MiB, 14);
  const { digests } = await seedModel(registry.url, "faults/disconnect", "latest", [blob]);
  const model = `${proxy.host}/faults/disconnect`;
  const start = proxy.blobBytes();
  const mark = proxy.requests.length;
  const held = proxy.holdAt(start + blob.length / 2);
  const ac = new AbortController();
  const first = fetch(`${srv.url}/api/pull`, { method: "POST", body: JSON.stringify({ model, insecure: true }), signal: ac.signal })
    .then((r) => r.text())
    .catch(() => "");
  await held;
  ac.abort();
  await first;
  // The download's own request to the registry is dropped once nobody waits for it.
  await until("the blob request to close", () =>
    proxy.requests.slice(mark).some((r) => r.path.endsWith(digests[0]!) && r.method === "GET" && r.closedEarly),
  );
  proxy.release();
  assert.equal(existsSync(join(srv.models, "manifests", proxy.host, "faults", "disconnect")), false);
  assert.equal(await hasPartial(srv.models, digests[0]!), true);

  await pullUntilDone(srv.url, model);
  assert.ok((await readFile(blobPath(srv.models, digests[0]!))).equals(blob));
  const served = proxy.blobBytes() - start;
  t.diagnostic(`served ${served - blob.length} bytes beyond the blob's ${blob.length}`);
  assert.ok(served <= blob.length + SLACK, `served ${served} bytes for a ${blob.length}-byte blob`);
});

test("when one of two clients pulling the same blob goes away, the download goes on for the other", async () => {
  const blob = blobOf(16 * MiB, 17);
  const { digests } = await seedModel(registry.url, "faults/two-clients", "latest", [blob]);
  const model = `${proxy.host}/faults/two-clients`;
  const mark = proxy.requests.length;
  const held = proxy.holdAt(proxy.blobBytes() + blob.length / 2);
  const ac = new AbortController();
  const body = JSON.stringify({ model, insecure: true });
  const leaving = fetch(`${srv.url}/api/pull`, { method: "POST", body, signal: ac.signal }).then((r) => r.text()).catch(() => "");
  await held;
  // The second client joins while the transfer is held, then the first one leaves.
  const staying = await fetch(`${srv.url}/api/pull`, { method: "POST", body });
  const reader = staying.body!.getReader();
  let text = "";
  while (!text.includes(`pulling ${digests[0]!.slice(7, 19)}`)) text += new TextDecoder().decode((await reader.read()).value);
  ac.abort();
  await leaving;
  proxy.release();
  for (let r = await reader.read(); !r.done; r = await reader.read()) text += new TextDecoder().decode(r.value);
  assert.deepEqual(JSON.parse(text.trim().split("\n").at(-1)!), { status: "success" });
  assert.ok((await readFile(blobPath(srv.models, digests[0]!))).equals(blob));
  const transfers = proxy.requests.slice(mark).filter((r) => r.method === "GET" && r.path.endsWith(digests[0]!) && r.range !== "bytes=0-0");
  assert.equal(transfers.length, 1, "one transfer served both clients");
  assert.equal(transfers[0]!.closedEarly, undefined, "and it was never interrupted");
});

test("a blob corrupted on the registry fails the digest check and nothing of it is kept", async () => {
  const blob = blobOf(8 * MiB, 15);
  const { digests } = await seedModel(registry.url, "faults/corrupt", "latest", [blob]);
  const fh = await open(registry.blobFile(digests[0]!), "r+");
  await fh.write(Buffer.from("corrupted"), 0, 9, 4 * MiB);
  await fh.close();
  const lines = await ndjson(await post(srv.url, "/api/pull", { model: `${registry.host}/faults/corrupt`, insecure: true }));
  const bad = Buffer.from(blob);
  Buffer.from("corrupted").copy(bad, 4 * MiB);
  const got = sha256(bad);
  assert.deepEqual(lines.at(-1), { error: `digest mismatch, file must be downloaded again: want ${digests[0]}, got ${got}` });
  const files = await readdir(join(srv.models, "blobs"));
  assert.deepEqual(files.filter((f) => f.includes(digests[0]!.slice(7))), []);
  assert.equal(existsSync(join(srv.models, "manifests", registry.host, "faults")), false);
});

test("a full disk fails the pull with ENOSPC and writes no manifest", async (t) => {
  const mount = await mkdtemp(join(tmpdir(), "corral-full-"));
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=16m", "tmpfs", mount], { stdio: "ignore" });
  } catch {
    await rm(mount, { recursive: true, force: true });
    return t.skip("needs root to mount a small tmpfs");
  }
  let server: TestServer | undefined;
  try {
    await mkdir(join(mount, "models"));
    const blob = blobOf(24 * MiB, 16);
    const { digests } = await seedModel(registry.url, "faults/full", "latest", [blob]);
    server = await startTestServer({}, { models: join(mount, "models") });
    const res = await postJson(server.url, "/api/pull", { model: `${registry.host}/faults/full`, insecure: true, stream: false });
    assert.equal(res.status, 500);
    assert.match(res.json.error, /no space left on device/);
    assert.equal(existsSync(blobPath(join(mount, "models"), digests[0]!)), false);
    assert.equal(existsSync(join(mount, "models", "manifests", registry.host)), false);
  } finally {
    await server?.stop();
    execFileSync("umount", [mount]);
    await rm(mount, { recursive: true, force: true });
  }
});
