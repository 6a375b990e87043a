// Crash safety: the real server is killed with SIGKILL in the middle of a create (with quantize), a
// pull, a push, a copy and a delete, at seeded pseudo-random points (CORRAL_CRASH_SEED,
// CORRAL_CRASH_KILLS). After each restart the models directory must be consistent (checkStore), an
// interrupted pull must be listed as a partial download and resume fetching only the bytes it lacks,
// and the interrupted operation must succeed when asked again.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, rm, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { createFromGguf, postJson, startTestServer, STORIES, type TestServer } from "./support/server.js";
import { blobOf, seedModel, sha256, startProxy, startRegistry, type CountingProxy, type TestRegistry } from "./support/registry.js";
import { checkStore, crashSettings, seededRandom } from "./support/crash.js";

const MiB = 1 << 20;
const HOUR = 3600_000;

let registry: TestRegistry;
let proxy: CountingProxy;
let work: string;

before(async () => {
  registry = await startRegistry();
  proxy = await startProxy(registry.url);
  work = await mkdtemp(join(tmpdir(), "corral-crash-"));
});

after(async () => {
  await proxy?.close();
  await registry?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

async function until(what: string, check: () => boolean | Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A process id that is certainly not running any more. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ["-e", ""], { stdio: "ignore" });
  await new Promise((r) => child.once("exit", r));
  return child.pid!;
}

test("startup removes what killed processes left behind and keeps partial downloads, whatever their age", async () => {
  const models = join(work, "startup-models");
  const scratch = join(work, "startup-scratch");
  await mkdir(scratch, { recursive: true });
  const env = { TMPDIR: scratch };
  let srv = await startTestServer(env, { models });
  try {
    await createFromGguf(srv.url, "kept", STORIES);
    await srv.kill();

    const dead = await deadPid();
    const blobs = join(models, "blobs");
    const manifestDir = join(models, "manifests", "registry.ollama.ai", "library", "kept");
    const deadTemps = [join(blobs, `.tmp-${dead}-0123abcd-0123456789ab`), join(manifestDir, `.tmp-${dead}-89abcdef-0123456789ab`), join(blobs, `.tmp-${dead}-0123456789ab`)];
    const liveTemp = join(blobs, `.tmp-${process.pid}-0123abcd-0123456789ab`);
    for (const f of [...deadTemps, liveTemp]) await writeFile(f, "half a write");
    const deadScratch = join(scratch, `corral-create-${dead}-0123abcd-AbC123`);
    const liveScratch = join(scratch, `corral-create-${process.pid}-0123abcd-XyZ789`);
    for (const d of [deadScratch, liveScratch]) {
      await mkdir(d);
      await writeFile(join(d, "model-q8_0.gguf"), "half a quantization");
    }
    // A partial download two hours old (Ollama's format plus the sidecar), and the leftovers of a
    // download that finished: its blob is in place, its part files were not yet removed.
    const hex = "c".repeat(64);
    const old = new Date(Date.now() - 2 * HOUR);
    const partialFiles = {
      [`sha256-${hex}-partial`]: Buffer.alloc(1000),
      [`sha256-${hex}-partial-0`]: JSON.stringify({ N: 0, Offset: 0, Size: 1000, Completed: 400 }),
      [`sha256-${hex}-partial.json`]: JSON.stringify({ name: "example.com/ns/old:v1", digest: `sha256:${hex}`, total: 1000, updated: old.toISOString() }),
    };
    for (const [f, body] of Object.entries(partialFiles)) {
      await writeFile(join(blobs, f), body);
      await utimes(join(blobs, f), old, old);
    }
    const finished = (await readdir(blobs)).find((f) => /^sha256-[0-9a-f]{64}$/.test(f))!;
    await writeFile(join(blobs, `${finished}-partial-0`), JSON.stringify({ N: 0, Offset: 0, Size: 1, Completed: 1 }));

    srv = await startTestServer(env, { models });
    const left = await readdir(blobs);
    for (const f of deadTemps) assert.equal(existsSync(f), false, `${f} was removed`);
    assert.equal(existsSync(liveTemp), true, "a live process's temp file stays");
    assert.deepEqual(await readdir(scratch), [basename(liveScratch)], "only the dead process's scratch went");
    assert.ok(!left.includes(`${finished}-partial-0`), "a finished download's part file went");
    for (const f of Object.keys(partialFiles)) assert.ok(left.includes(f), `${f} was kept though it is old`);

    const listed = await postJson(srv.url, "/api/partials", undefined, "GET");
    assert.equal(listed.status, 200);
    assert.deepEqual(
      listed.json.partials.map((p: any) => [p.name, p.digest, p.completed, p.total, p.downloading]),
      [["example.com/ns/old:v1", `sha256:${hex}`, 400, 1000, false]],
    );
    await rm(liveTemp);
    await checkStore(srv.url, models);
  } finally {
    await srv.stop();
  }
});

type Op = "create" | "pull" | "push" | "copy" | "delete";
const OPS: Op[] = ["pull", "create", "push", "delete", "copy"];

test("SIGKILL during create, pull, push, copy and delete: the store stays consistent and every operation completes when asked again", async (t) => {
  const { seed, kills } = crashSettings();
  t.diagnostic(`CORRAL_CRASH_SEED=${seed} CORRAL_CRASH_KILLS=${kills}`);
  const random = seededRandom(seed);
  const models = join(work, "loop-models");
  const scratch = join(work, "loop-scratch");
  await mkdir(scratch, { recursive: true });
  const env = { TMPDIR: scratch };
  let srv: TestServer = await startTestServer(env, { models });
  try {
    const base = `${registry.host}/crash/base:v1`;
    await createFromGguf(srv.url, base, STORIES);

    /** Requests of one operation, and what must hold once it is asked again after the crash. */
    const request = (op: Op, i: number): [string, object, string] => {
      switch (op) {
        case "create":
          return ["POST", { model: `crash/q${i}`, from: base, quantize: "q8_0", system: `crash ${i}`, stream: false }, "/api/create"];
        case "push":
          return ["POST", { model: `${registry.host}/crash/pushed${i}:v1`, insecure: true, stream: false }, "/api/push"];
        case "copy":
          return ["POST", { source: base, destination: `crash/copy${i}` }, "/api/copy"];
        case "delete":
          return ["DELETE", { model: `crash/victim${i}` }, "/api/delete"];
        default:
          throw new Error(op);
      }
    };
    // Warm-up: how long each operation takes here, so kill points fall inside it.
    const durations = new Map<Op, number>();
    const prepare = async (op: Op, i: number) => {
      if (op === "push") await postJson(srv.url, "/api/copy", { source: base, destination: `${registry.host}/crash/pushed${i}:v1` });
      if (op === "delete") {
        // Its own system layer: deleting it removes blobs no other model uses.
        const made = await postJson(srv.url, "/api/create", { model: `crash/victim${i}`, from: base, system: `victim ${i}`, stream: false });
        assert.equal(made.status, 200, made.text);
      }
    };
    for (const op of OPS.filter((o) => o !== "pull")) {
      await prepare(op, -1);
      const [method, body, path] = request(op, -1);
      const started = Date.now();
      const res = await postJson(srv.url, path, body, method);
      assert.equal(res.status, 200, `${op}: ${res.text}`);
      durations.set(op, Date.now() - started);
    }
    t.diagnostic(`durations (ms): ${JSON.stringify(Object.fromEntries(durations))}`);

    let resumedBytes = 0;
    for (let i = 0; i < kills; i++) {
      const op = OPS[i % OPS.length]!;
      const at = random();
      if (op === "pull") {
        resumedBytes += await crashPull(i, at);
        continue;
      }
      await prepare(op, i);
      const [method, body, path] = request(op, i);
      const delay = Math.round(at * 1.2 * durations.get(op)!);
      const pending = postJson(srv.url, path, body, method).catch(() => undefined);
      await new Promise((r) => setTimeout(r, delay));
      await srv.kill();
      const answer = await pending;
      t.diagnostic(`#${i} ${op} killed after ${delay} ms (${answer ? `answered ${answer.status}` : "no answer"})`);
      srv = await startTestServer(env, { models });
      await checkStore(srv.url, models, scratch);
      const again = await postJson(srv.url, path, body, method);
      if (op === "delete") assert.ok([200, 404].includes(again.status), again.text);
      else assert.equal(again.status, 200, `${op} again: ${again.text}`);
      const { manifests } = await checkStore(srv.url, models, scratch);
      if (op === "create") assert.ok(manifests.some((m) => m.endsWith(`/crash/q${i}:latest`)), "the model was created");
      if (op === "delete") assert.ok(!manifests.some((m) => m.includes(`/victim${i}:`)), "the model is gone");
      if (op === "copy") assert.ok(manifests.some((m) => m.endsWith(`/copy${i}:latest`)));
    }
    if (kills >= OPS.length) assert.ok(resumedBytes > 0, "some killed pull was resumed from bytes it had saved");
  } finally {
    await srv.stop();
  }

  /**
   * Pulls a fresh 24 MiB model, killing the server once `at` of its blob went through the proxy; after
   * the restart the partial download is listed, and pulling again fetches only what it lacks.
   * Returns the bytes the resumed pull did not fetch again.
   */
  async function crashPull(i: number, at: number): Promise<number> {
    const blob = blobOf(24 * MiB, 1000 + i);
    const { digests, manifest } = await seedModel(registry.url, `crash/pulled${i}`, "v1", [blob]);
    const model = `${proxy.host}/crash/pulled${i}:v1`;
    const digest = digests[0]!;
    const hold = Math.round((0.25 + 0.65 * at) * blob.length);
    const mark = proxy.requests.length;
    const held = proxy.holdAt(proxy.blobBytes() + hold);
    const pending = postJson(srv.url, "/api/pull", { model, insecure: true, stream: false }).catch(() => undefined);
    await held;
    // Held past 6 MiB, the server has saved progress at least once before it dies.
    const live = async () => (await postJson(srv.url, "/api/partials", undefined, "GET")).json.partials.find((p: any) => p.digest === digest);
    await until("the download's progress to be saved", async () => (await live())?.completed >= 4 * MiB);
    const seen = await live();
    assert.equal(seen.downloading, true);
    assert.equal(seen.name, `${proxy.host}/crash/pulled${i}:v1`);
    await srv.kill();
    await pending;
    // Bytes the proxy counts from now on are the resumed pull's only.
    const transfers = () => proxy.requests.slice(mark).filter((r) => r.method === "GET" && r.path.endsWith(digest) && r.range !== "bytes=0-0");
    await until("the killed transfer to close", () => transfers().every((r) => r.closedEarly));
    proxy.release();

    srv = await startTestServer(env, { models });
    await checkStore(srv.url, models, scratch);
    const listed = (await postJson(srv.url, "/api/partials", undefined, "GET")).json.partials.find((p: any) => p.digest === digest);
    assert.ok(listed, "the interrupted download is listed after the restart");
    assert.deepEqual([listed.name, listed.total, listed.downloading], [model, blob.length, false]);
    assert.ok(listed.completed >= seen.completed && listed.completed <= hold, `completed ${listed.completed}`);

    const before = proxy.blobBytes();
    const again = await postJson(srv.url, "/api/pull", { model, insecure: true, stream: false });
    assert.equal(again.status, 200, again.text);
    const fetched = proxy.blobBytes() - before;
    const configSize = (JSON.parse(manifest.toString()) as { config: { size: number } }).config.size;
    // The missing bytes, the config blob, and a one-byte range probe per blob.
    assert.ok(fetched <= blob.length - listed.completed + configSize + 2, `fetched ${fetched} for ${blob.length - listed.completed} missing bytes`);
    assert.ok(fetched >= blob.length - listed.completed, `fetched ${fetched}, less than the ${blob.length - listed.completed} missing`);
    t.diagnostic(`#${i} pull killed at ${hold} bytes: ${listed.completed} saved, ${fetched} fetched on resume`);
    const { manifests } = await checkStore(srv.url, models, scratch);
    assert.ok(manifests.includes(`${proxy.host}/crash/pulled${i}:v1`));
    assert.equal(sha256(blob), digest);
    return listed.completed;
  }
});
