// Partial downloads, listed and removed on request: GET /api/partials while a pull runs and after it
// stopped, DELETE /api/partials/:digest (409 while downloading, 404 when gone, 400 when malformed),
// `corral list --partial` and `corral rm --partial`, and a pull after a removal starting afresh.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { readdir } from "node:fs/promises";
import { runCli, type CliResult } from "./support/cli.js";
import { blobOf, seedModel, type CountingProxy, type TestRegistry } from "./support/registry.js";
import { startRegistryStack, stopRegistryStack } from "./support/registry-stack.js";
import { postJson, type TestServer } from "./support/server.js";

const MiB = 1 << 20;

let registry: TestRegistry;
let proxy: CountingProxy;
let srv: TestServer;

before(async () => ({ registry, proxy, srv } = await startRegistryStack()));
after(() => stopRegistryStack({ registry, proxy, srv }));

const cli = (...args: string[]) => runCli(`127.0.0.1:${srv.port}`, args);

function ok(r: CliResult): CliResult {
  assert.equal(r.code, 0, JSON.stringify(r));
  return r;
}

function fails(r: CliResult, message: string): void {
  assert.equal(r.code, 1, JSON.stringify(r));
  assert.equal(r.stderr, `Error: ${message}\n`);
}

async function until(what: string, check: () => boolean | Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const partials = async () => (await postJson(srv.url, "/api/partials", undefined, "GET")).json.partials as any[];
const partialFiles = async (hex: string) => (await readdir(`${srv.models}/blobs`)).filter((f) => f.startsWith(`sha256-${hex}-partial`));

/** Starts a pull of a fresh 16 MiB model and holds it halfway; `leave()` makes its client go away. */
async function heldPull(repo: string, seed: number) {
  const blob = blobOf(16 * MiB, seed);
  const { digests } = await seedModel(registry.url, repo, "v1", [blob]);
  const model = `${proxy.host}/${repo}:v1`;
  const mark = proxy.requests.length;
  const held = proxy.holdAt(proxy.blobBytes() + blob.length / 2);
  const ac = new AbortController();
  const pending = fetch(`${srv.url}/api/pull`, { method: "POST", body: JSON.stringify({ model, insecure: true }), signal: ac.signal })
    .then((r) => r.text())
    .catch(() => "");
  await held;
  const digest = digests[0]!;
  return {
    model,
    digest,
    size: blob.length,
    async leave() {
      ac.abort();
      await pending;
      await until("the download to stop", () =>
        proxy.requests.slice(mark).some((r) => r.path.endsWith(digest) && r.method === "GET" && r.closedEarly),
      );
      await until("the listing to say it stopped", async () => (await partials()).every((p) => !p.downloading));
      proxy.release();
    },
  };
}

test("a running download is listed and cannot be removed; a stopped one is listed, removed, and pulled afresh", async () => {
  const pull = await heldPull("partials/one", 31);
  await until("progress to be saved", async () => (await partials()).some((p) => p.digest === pull.digest && p.completed > 0));
  const [running] = await partials();
  assert.equal(running.name, pull.model);
  assert.equal(running.digest, pull.digest);
  assert.equal(running.total, pull.size);
  assert.equal(running.downloading, true);
  assert.ok(running.completed > 0 && running.completed <= pull.size / 2);
  assert.match(running.modified_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d/);

  const busy = await postJson(srv.url, `/api/partials/${pull.digest}`, undefined, "DELETE");
  assert.deepEqual([busy.status, busy.json], [409, { error: `partial download "${pull.digest}" is in progress` }]);
  const listedRunning = ok(await cli("list", "--partial")).stdout;
  assert.match(listedRunning, /^NAME +ID +DOWNLOADED +PROGRESS +MODIFIED/);
  assert.match(listedRunning, new RegExp(`^${pull.model} +${pull.digest.slice(7, 19)} +[\\d.]+ MB/16 MB +\\d+% +downloading`, "m"));
  fails(await cli("rm", "--partial", pull.digest.slice(7, 15)), `partial download "${pull.digest}" is in progress`);

  await pull.leave();
  const [stopped] = await partials();
  assert.equal(stopped.downloading, false);
  assert.ok(stopped.completed >= running.completed);
  const listed = ok(await cli("ls", "--partial")).stdout.split("\n")[1]!;
  assert.match(listed, new RegExp(`^${pull.model} +${pull.digest.slice(7, 19)} +.* ago`));
  // The model list is not affected by partial downloads.
  assert.ok(!ok(await cli("list")).stdout.includes("partials/one"));

  const removed = ok(await cli("rm", "--partial", pull.digest.slice(7, 15)));
  assert.equal(removed.stdout, `deleted partial download ${pull.digest} (${pull.model})\n`);
  assert.deepEqual(await partials(), []);
  assert.deepEqual(await partialFiles(pull.digest.slice(7)), [], "every file of the download is gone");

  const gone = await postJson(srv.url, `/api/partials/${pull.digest}`, undefined, "DELETE");
  assert.deepEqual([gone.status, gone.json], [404, { error: `partial download "${pull.digest}" not found` }]);
  for (const digest of ["sha256:xyz", "..%2F..%2Fmanifests", `sha256-${pull.digest.slice(7)}%2F..`]) {
    const bad = await postJson(srv.url, `/api/partials/${digest}`, undefined, "DELETE");
    assert.deepEqual([bad.status, bad.json], [400, { error: "invalid digest format" }], digest);
  }
  fails(await cli("rm", "--partial", "abcdef"), "partial download 'abcdef' not found");

  // Removed means started over: the whole blob crosses the network again.
  const before = proxy.blobBytes();
  const again = await postJson(srv.url, "/api/pull", { model: pull.model, insecure: true, stream: false });
  assert.equal(again.status, 200, again.text);
  assert.ok(proxy.blobBytes() - before >= pull.size);
  assert.deepEqual(await partials(), []);
});

test("rm --partial without a digest removes every stopped download; rm needs a model otherwise", async () => {
  const first = await heldPull("partials/two", 32);
  await first.leave();
  const second = await heldPull("partials/three", 33);
  await second.leave();
  assert.deepEqual((await partials()).map((p) => p.digest).sort(), [first.digest, second.digest].sort());
  const out = ok(await cli("rm", "--partial")).stdout.split("\n").filter(Boolean).sort();
  assert.deepEqual(out, [`deleted partial download ${first.digest} (${first.model})`, `deleted partial download ${second.digest} (${second.model})`].sort());
  assert.deepEqual(await partials(), []);
  assert.equal(ok(await cli("list", "--partial")).stdout, "NAME    ID    DOWNLOADED    PROGRESS    MODIFIED \n");
  fails(await cli("rm"), "missing required argument 'MODEL'");
});
