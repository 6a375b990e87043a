// Admission before a load: the memory estimate against what is free (CORRAL_MEMORY_LIMIT stands in
// for the machine), eviction of idle models to make room, waiting for a busy one, OLLAMA_LOAD_TIMEOUT
// on a load that really stalls, and the full queue's immediate 503.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { statSync } from "node:fs";
import { mkdtemp, rename, rm, unlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig } from "../src/config.js";
import { kvBytesPerToken } from "../src/gguf/info.js";
import { readGguf } from "../src/gguf/reader.js";
import { GgufValueType } from "../src/gguf/types.js";
import { estimateMemory, humanBytes2 } from "../src/scheduler/memory.js";
import { QUEUE_FULL_MESSAGE } from "../src/scheduler/scheduler.js";
import { rewriteGguf } from "./support/gguf.js";
import { createFromGguf, postJson, startTestServer, STORIES, type TestServer } from "./support/server.js";

const NUM_CTX = 64;
let dir: string;
let endless: string;
let kvPerToken: number;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "corral-admit-"));
  // stories260K whose end-of-sequence id points at <unk>: it never stops by itself.
  endless = join(dir, "endless.gguf");
  await rewriteGguf(STORIES, endless, (md) => md.set("tokenizer.ggml.eos_token_id", { type: GgufValueType.UINT32, value: 0 }));
  kvPerToken = kvBytesPerToken(await readGguf(STORIES));
});
after(() => rm(dir, { recursive: true, force: true }));

/** What the server should estimate for a GGUF at num_ctx with one slot (the servers here run OLLAMA_NUM_PARALLEL=1). */
const need = (path: string, numCtx = NUM_CTX) =>
  estimateMemory({ weightsBytes: statSync(path).size, kvBytesPerToken: kvPerToken, contextSize: numCtx, parallel: 1 });

const tooLargeMessage = (required: number, available: number) =>
  `model requires more system memory (${humanBytes2(required)}) than is available (${humanBytes2(available)})`;

function pgrep(args: string[]): number[] {
  try {
    return execFileSync("pgrep", args).toString().trim().split("\n").filter(Boolean).map(Number);
  } catch {
    return [];
  }
}
const runnerPids = (srv: TestServer) => pgrep(["-P", String(srv.proc.pid)]);

const ps = async (srv: TestServer) => ((await postJson(srv.url, "/api/ps", undefined, "GET")).json.models as any[]).map((m) => m.name);
const queue = async (srv: TestServer) => (await postJson(srv.url, "/api/queue", undefined, "GET")).json.models as any[];

const generate = (srv: TestServer, model: string, numCtx = NUM_CTX) =>
  postJson(srv.url, "/api/generate", { model, prompt: "Once", stream: false, options: { num_ctx: numCtx, num_predict: 2, temperature: 0 } });

/** Polls until `ok` holds; the test's own timeout catches a wait that never ends. */
async function until(ok: () => Promise<boolean>) {
  while (!(await ok())) await new Promise((r) => setTimeout(r, 50));
}

test("Go's HumanBytes2 wording, exact ties rounded to even", () => {
  assert.deepEqual(
    [999, 1024, 1536, 1_310_720, 1_363_149, 5 * 2 ** 30].map(humanBytes2),
    ["999 B", "1.0 KiB", "1.5 KiB", "1.2 MiB", "1.3 MiB", "5.0 GiB"],
  );
});

test("OLLAMA_LOAD_TIMEOUT: Go duration or seconds, default 5m, zero or negative is forever; CORRAL_MEMORY_LIMIT in bytes", () => {
  const t = (v?: string) => loadConfig({ OLLAMA_LOAD_TIMEOUT: v }).loadTimeout;
  assert.deepEqual([t(), t("0.001s"), t("1ms"), t("90"), t("2m"), t("0"), t("-1"), t("soon")], [300_000, 1, 1, 90_000, 120_000, Infinity, Infinity, 300_000]);
  assert.equal(loadConfig({ CORRAL_MEMORY_LIMIT: "123456" }).memoryLimit, 123456);
  assert.equal(loadConfig({}).memoryLimit, 0);
});

test("a model that cannot fit answers Ollama's 500 and starts no runner; a loaded model is not evicted for it", { timeout: 60_000 }, async () => {
  // Room for stories at num_ctx 16, one byte short of it at NUM_CTX.
  const limit = need(STORIES) - 1;
  assert.ok(need(STORIES, 16) <= limit);
  const srv = await startTestServer({ CORRAL_MEMORY_LIMIT: String(limit), OLLAMA_NUM_PARALLEL: "1" });
  try {
    await createFromGguf(srv.url, "stories", STORIES);
    const refused = await generate(srv, "stories");
    assert.deepEqual([refused.status, refused.json], [500, { error: tooLargeMessage(need(STORIES), limit) }]);
    assert.deepEqual(runnerPids(srv), []);
    assert.deepEqual(await ps(srv), []);

    const small = await generate(srv, "stories", 16);
    assert.equal(small.status, 200, small.text);
    const [pid] = runnerPids(srv);
    // The larger context would replace the loaded runner, but could not fit even then: the runner stays.
    const again = await generate(srv, "stories");
    assert.deepEqual([again.status, again.json], [500, { error: tooLargeMessage(need(STORIES), limit) }]);
    assert.deepEqual(runnerPids(srv), [pid]);
    assert.deepEqual(await ps(srv), ["stories:latest"]);
  } finally {
    await srv.stop();
  }
});

test("room for one model: the idle one is evicted for the next; a busy one is waited for", { timeout: 120_000 }, async () => {
  const limit = need(STORIES) + need(endless) - 1;
  assert.ok(need(STORIES) <= limit && need(endless) <= limit);
  const srv = await startTestServer({ CORRAL_MEMORY_LIMIT: String(limit), OLLAMA_NUM_PARALLEL: "1" });
  try {
    await createFromGguf(srv.url, "stories", STORIES);
    await createFromGguf(srv.url, "endless", endless);
    assert.equal((await generate(srv, "stories")).status, 200);
    assert.equal((await generate(srv, "endless")).status, 200);
    assert.deepEqual(await ps(srv), ["endless:latest"]);
    assert.equal(runnerPids(srv).length, 1);

    // endless busy with a long generation: stories must wait for it, not take its memory from under it.
    const busy = new AbortController();
    const stream = await fetch(`${srv.url}/api/generate`, {
      method: "POST",
      body: JSON.stringify({ model: "endless", prompt: "Once", options: { num_ctx: NUM_CTX, num_predict: 100_000 } }),
      signal: busy.signal,
    });
    const reader = stream.body!.getReader();
    await reader.read();
    let storiesDone = false;
    const waiting = generate(srv, "stories").finally(() => (storiesDone = true));
    await until(async () => (await queue(srv)).some((m) => m.name === "stories:latest" && !m.loaded && m.waiting === 1));
    assert.equal((await reader.read()).done, false, "endless is still generating");
    assert.equal(storiesDone, false);
    assert.deepEqual(await ps(srv), ["endless:latest"]);

    busy.abort();
    const served = await waiting;
    assert.equal(served.status, 200, served.text);
    assert.deepEqual(await ps(srv), ["stories:latest"]);
    assert.equal(runnerPids(srv).length, 1);
  } finally {
    await srv.stop();
  }
});

test("OLLAMA_LOAD_TIMEOUT ends a stalled load with Ollama's message and kills the runner; a full queue answers 503 meanwhile", { timeout: 120_000 }, async () => {
  const srv = await startTestServer({ OLLAMA_LOAD_TIMEOUT: "20s", OLLAMA_MAX_QUEUE: "0", OLLAMA_NUM_PARALLEL: "1" });
  try {
    const digest = await createFromGguf(srv.url, "stories", STORIES);
    // The model's facts are read (and kept) by show; from now on only the engine opens the weights.
    assert.equal((await postJson(srv.url, "/api/show", { model: "stories" })).status, 200);
    const blob = join(srv.models, "blobs", digest.replace(":", "-"));
    // Weights on storage that never answers: opening a FIFO with no writer blocks, as a hung disk would.
    await rename(blob, `${blob}.kept`);
    execFileSync("mkfifo", [blob]);

    const stalled = generate(srv, "stories");
    await until(async () => (await queue(srv)).some((m) => m.name === "stories:latest" && !m.loaded && m.waiting === 1));
    // Another runner (another num_ctx) would wait behind the stalled load: the queue is full. A
    // request for the runner being started waits for it uncounted, as in Ollama, and shares its fate.
    const full = await generate(srv, "stories", NUM_CTX * 2);
    assert.deepEqual([full.status, full.json], [503, { error: QUEUE_FULL_MESSAGE }]);
    const joined = generate(srv, "stories");

    for (const timedOut of [await stalled, await joined]) {
      assert.equal(timedOut.status, 500);
      assert.match(timedOut.json.error, /^timed out waiting for llama runner to start - /);
    }
    assert.deepEqual(runnerPids(srv), []);
    assert.deepEqual(pgrep(["-f", blob]), [], "nothing still holds the weights open");
    assert.deepEqual(await ps(srv), []);

    await unlink(blob);
    await rename(`${blob}.kept`, blob);
    const next = await generate(srv, "stories");
    assert.equal(next.status, 200, next.text);
    assert.deepEqual(await ps(srv), ["stories:latest"]);
  } finally {
    await srv.stop();
  }
});
