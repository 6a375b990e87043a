// Runner processes and the scheduler seen from outside: native code stays out of the server,
// crashes and disconnects are contained, keep_alive, ps, parallel slots, eviction, queue limit.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GgufValueType } from "../src/gguf/types.js";
import { RUNNER_STOPPED_MESSAGE } from "../src/runner/protocol.js";
import { availableDrivers } from "./support/engine.js";
import { rewriteGguf } from "./support/gguf.js";
import { createFromGguf, post, postJson, SHARED, startTestServer, STORIES, type TestServer } from "./support/server.js";

let endless: string;
before(async () => {
  // stories260K whose end-of-sequence id points at <unk>: it never stops by itself.
  endless = join(await mkdtemp(join(tmpdir(), "corral-endless-")), "endless.gguf");
  await rewriteGguf(STORIES, endless, (md) => md.set("tokenizer.ggml.eos_token_id", { type: GgufValueType.UINT32, value: 0 }));
});

function runnerPids(server: TestServer): number[] {
  try {
    return execFileSync("pgrep", ["-P", String(server.proc.pid)]).toString().trim().split("\n").filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** Reads NDJSON lines from a streaming response as they arrive. */
async function* lines(res: Response): AsyncGenerator<any> {
  const decoder = new TextDecoder();
  let buf = "";
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    buf += decoder.decode(chunk, { stream: true });
    let i: number;
    while ((i = buf.indexOf("\n")) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      if (line) yield JSON.parse(line);
    }
  }
}

const ps = async (srv: TestServer) => (await postJson(srv.url, "/api/ps", undefined, "GET")).json.models as any[];

/** Children of a process. */
function childrenOf(pid: number): number[] {
  try {
    return execFileSync("pgrep", ["-P", String(pid)]).toString().trim().split("\n").filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

test("the server process never maps llama.cpp; its runner (or the runner's llama-server) does", async () => {
  const srv = await startTestServer();
  try {
    await createFromGguf(srv.url, "stories", STORIES);
    const r = await postJson(srv.url, "/api/generate", { model: "stories", prompt: "Once", stream: false, options: { num_predict: 2 } });
    assert.equal(r.status, 200);
    const serverMaps = await readFile(`/proc/${srv.proc.pid}/maps`, "utf8");
    assert.doesNotMatch(serverMaps, /llama|ggml/);
    const [runner] = runnerPids(srv);
    assert.ok(runner, "a runner process is running");
    const [engine] = childrenOf(runner);
    if (engine) {
      // The llama-server driver: llama.cpp lives in the runner's own child, not in the runner.
      assert.match(await readFile(`/proc/${engine}/cmdline`, "utf8"), /llama-server/);
      assert.doesNotMatch(await readFile(`/proc/${runner}/maps`, "utf8"), /libllama|ggml/);
    } else assert.match(await readFile(`/proc/${runner}/maps`, "utf8"), /libllama|ggml/);
  } finally {
    await srv.stop();
  }
});

test("SIGKILL of a runner fails its requests clearly; the server stays up and reloads", { timeout: 120_000 }, async () => {
  const srv = await startTestServer();
  try {
    await createFromGguf(srv.url, "endless", endless);
    const res = await post(srv.url, "/api/generate", { model: "endless", prompt: "Once upon a time", options: { num_predict: 1_000_000 } });
    const it = lines(res);
    assert.equal((await it.next()).value.done, false);
    const [runner] = runnerPids(srv);
    process.kill(runner!, "SIGKILL");
    let last: any;
    for await (const l of it) last = l;
    assert.deepEqual(last, { error: RUNNER_STOPPED_MESSAGE });

    // A non-streaming request in flight gets a plain 500.
    assert.equal((await postJson(srv.url, "/api/generate", { model: "endless" })).json.done_reason, "load");
    const pending = postJson(srv.url, "/api/generate", { model: "endless", prompt: "Once", stream: false, options: { num_predict: 1_000_000 } });
    await new Promise((r) => setTimeout(r, 500));
    process.kill(runnerPids(srv)[0]!, "SIGKILL");
    const failed = await pending;
    assert.deepEqual([failed.status, failed.json], [500, { error: RUNNER_STOPPED_MESSAGE }]);

    assert.equal((await fetch(srv.url)).status, 200);
    const again = await postJson(srv.url, "/api/generate", { model: "endless", prompt: "Once", stream: false, options: { num_predict: 3 } });
    assert.equal(again.status, 200);
    assert.equal(again.json.eval_count, 3);
    assert.equal(runnerPids(srv).length, 1);
  } finally {
    await srv.stop();
  }
});

test("a model that fails to load is a clear 500; the server stays up", { timeout: 60_000 }, async () => {
  const srv = await startTestServer();
  try {
    // A real tokenizer-only GGUF: a valid header, but no weights to run.
    await createFromGguf(srv.url, "vocab-only", join(SHARED, "models/vocab/ggml-vocab-llama-spm.gguf"));
    const res = await postJson(srv.url, "/api/generate", { model: "vocab-only", prompt: "hi", stream: false });
    assert.equal(res.status, 500);
    // llama.cpp's own words, which differ a little between its loader paths.
    assert.match(res.json.error, /^llama runner process has terminated: error loading model: .*tensor 'token_embd\.weight'( not found)?$/);
    assert.deepEqual(await ps(srv), []);
    assert.equal(runnerPids(srv).length, 0);
    await createFromGguf(srv.url, "stories", STORIES);
    const ok = await postJson(srv.url, "/api/generate", { model: "stories", prompt: "Once", stream: false, options: { num_predict: 2 } });
    assert.equal(ok.status, 200);
  } finally {
    await srv.stop();
  }
});

test("a client that disconnects mid-stream frees its slot", { timeout: 120_000 }, async () => {
  // One slot: the second request can only run once the abandoned generation has stopped. If it did
  // not stop, it would hold the slot for a million tokens and this test would time out.
  const srv = await startTestServer({ OLLAMA_NUM_PARALLEL: "1" });
  try {
    await createFromGguf(srv.url, "endless", endless);
    const ac = new AbortController();
    const res = await fetch(`${srv.url}/api/generate`, {
      method: "POST",
      body: JSON.stringify({ model: "endless", prompt: "Once upon a time", options: { num_predict: 1_000_000 } }),
      signal: ac.signal,
    });
    const it = lines(res);
    for (let i = 0; i < 3; i++) await it.next();
    ac.abort();
    const next = await postJson(srv.url, "/api/generate", { model: "endless", prompt: "Once", stream: false, options: { num_predict: 2 } });
    assert.equal(next.status, 200);
    assert.equal(next.json.eval_count, 2);
  } finally {
    await srv.stop();
  }
});

test("keep_alive: a duration expires the model, a negative one keeps it, and the value sticks", { timeout: 60_000 }, async () => {
  const srv = await startTestServer();
  try {
    await createFromGguf(srv.url, "stories", STORIES);
    const tags = (await postJson(srv.url, "/api/tags", undefined, "GET")).json.models;
    await postJson(srv.url, "/api/generate", { model: "stories", keep_alive: -1 });
    let models = await ps(srv);
    assert.equal(models.length, 1);
    const m = models[0];
    assert.equal(m.name, "stories:latest");
    assert.equal(m.model, "stories:latest");
    assert.equal(m.digest, tags[0].digest);
    assert.ok(m.size > 1_000_000, String(m.size));
    assert.equal(m.size_vram, 0);
    assert.ok(m.context_length >= 2048);
    assert.equal(m.details.family, "llama");
    assert.ok(new Date(m.expires_at).getFullYear() > 2200, m.expires_at);

    // A later request without keep_alive keeps "forever".
    await postJson(srv.url, "/api/generate", { model: "stories", prompt: "Once", stream: false, options: { num_predict: 1 } });
    assert.ok(new Date((await ps(srv))[0].expires_at).getFullYear() > 2200);

    // A short keep_alive unloads the model once idle.
    await postJson(srv.url, "/api/generate", { model: "stories", prompt: "Once", stream: false, keep_alive: "1s", options: { num_predict: 1 } });
    const deadline = Date.now() + 30_000;
    while ((models = await ps(srv)).length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    assert.equal(models.length, 0);
    // ps drops a model as its unload starts; the runner then stops its engine process and exits.
    while (runnerPids(srv).length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.equal(runnerPids(srv).length, 0);

    // Empty prompt + keep_alive 0 unloads at once, and is not an error when nothing is loaded.
    await postJson(srv.url, "/api/generate", { model: "stories" });
    assert.equal((await ps(srv)).length, 1);
    const unload = await postJson(srv.url, "/api/generate", { model: "stories", prompt: "", keep_alive: "0s" });
    assert.equal(unload.json.done_reason, "unload");
    assert.equal((await ps(srv)).length, 0);
    const again = await postJson(srv.url, "/api/generate", { model: "stories", keep_alive: 0 });
    assert.equal(again.json.done_reason, "unload");
  } finally {
    await srv.stop();
  }
});

test("num_ctx: capped at the training context, defaulted from OLLAMA_CONTEXT_LENGTH, and a change reloads", { timeout: 60_000 }, async () => {
  const srv = await startTestServer({ OLLAMA_CONTEXT_LENGTH: "1024" });
  try {
    await createFromGguf(srv.url, "stories", STORIES);
    const gen = (options: Record<string, unknown>) =>
      postJson(srv.url, "/api/generate", { model: "stories", prompt: "Once", stream: false, options: { num_predict: 1, ...options } });
    await gen({});
    assert.equal((await ps(srv))[0].context_length, 1024);
    const first = runnerPids(srv);
    await gen({ num_ctx: 512 });
    assert.equal((await ps(srv))[0].context_length, 512);
    assert.notDeepEqual(runnerPids(srv), first);
    assert.equal(runnerPids(srv).length, 1);
    // stories260K was trained with a 2048-token context.
    await gen({ num_ctx: 100_000 });
    assert.equal((await ps(srv))[0].context_length, 2048);
  } finally {
    await srv.stop();
  }
});

test("parallel slots serve concurrent requests, each with its own correct answer", { timeout: 60_000 }, async () => {
  const srv = await startTestServer({ OLLAMA_NUM_PARALLEL: "2" });
  try {
    await createFromGguf(srv.url, "stories", STORIES);
    const ask = (prompt: string) =>
      postJson(srv.url, "/api/generate", { model: "stories", prompt, stream: false, options: { temperature: 0, num_predict: 16 } });
    const sequential = [(await ask("Once upon a time")).json.response, (await ask("Tom had a")).json.response];
    const together = await Promise.all([ask("Once upon a time"), ask("Tom had a")]);
    assert.deepEqual(together.map((r) => r.json.response), sequential);
    assert.equal(runnerPids(srv).length, 1);
  } finally {
    await srv.stop();
  }
});

test("OLLAMA_MAX_LOADED_MODELS evicts the idle model; OLLAMA_MAX_QUEUE=0 still serves a lone load", { timeout: 60_000 }, async () => {
  const srv = await startTestServer({ OLLAMA_MAX_LOADED_MODELS: "1" });
  try {
    await createFromGguf(srv.url, "stories", STORIES);
    await createFromGguf(srv.url, "endless", endless);
    await postJson(srv.url, "/api/generate", { model: "stories" });
    await postJson(srv.url, "/api/generate", { model: "endless" });
    assert.deepEqual((await ps(srv)).map((m) => m.name), ["endless:latest"]);
    assert.equal(runnerPids(srv).length, 1);
  } finally {
    await srv.stop();
  }
  // OLLAMA_MAX_QUEUE=0 (as in Ollama): no request may wait behind a load (scheduler-memory tests the
  // 503), but a load with nothing ahead of it goes on.
  const full = await startTestServer({ OLLAMA_MAX_QUEUE: "0" });
  try {
    await createFromGguf(full.url, "stories", STORIES);
    const alone = await postJson(full.url, "/api/generate", { model: "stories", prompt: "x", stream: false, options: { num_predict: 2 } });
    assert.equal(alone.status, 200, alone.text);
  } finally {
    await full.stop();
  }
});

test("a llama-server's private socket folder goes with it: at once when the server dies, at the next start when its runner was SIGKILLed", { timeout: 120_000, skip: !availableDrivers().includes("llama-server") && "needs llama-server" }, async () => {
  const scratch = await mkdtemp(join(tmpdir(), "corral-sockets-"));
  const models = await mkdtemp(join(tmpdir(), "corral-sockets-models-"));
  const sockets = async () => (await readdir(scratch)).filter((e) => e.startsWith("corral-llama-"));
  const alive = (pid: number) => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  const until = async (check: () => boolean) => {
    for (const end = Date.now() + 20_000; !check(); await new Promise((r) => setTimeout(r, 50))) {
      if (Date.now() > end) throw new Error("timed out");
    }
  };
  const generate = (srv: TestServer) => postJson(srv.url, "/api/generate", { model: "stories", prompt: "Once", stream: false, options: { num_predict: 2 } });
  let srv = await startTestServer({ TMPDIR: scratch }, { models });
  try {
    await createFromGguf(srv.url, "stories", STORIES);
    assert.equal((await generate(srv)).status, 200);
    const [folder] = await sockets();
    assert.ok(folder, "the runner's llama-server listens in a folder of its own");

    // A SIGKILLed runner cleans nothing up: its folder stays until the next start removes it.
    const [runner] = runnerPids(srv);
    const [engine] = childrenOf(runner!);
    process.kill(runner!, "SIGKILL");
    await until(() => !alive(runner!) && !alive(engine!));
    assert.deepEqual(await sockets(), [folder]);
    await srv.kill();
    srv = await startTestServer({ TMPDIR: scratch }, { models });
    assert.deepEqual(await sockets(), [], "the start removed the dead runner's folder");

    // A server that dies takes its runners with it, and each removes its folder as it goes.
    assert.equal((await generate(srv)).status, 200);
    assert.equal((await sockets()).length, 1);
    const [next] = runnerPids(srv);
    await srv.kill();
    await until(() => !alive(next!));
    assert.deepEqual(await sockets(), []);
  } finally {
    await srv.stop();
    await rm(scratch, { recursive: true, force: true });
    await rm(models, { recursive: true, force: true });
  }
});
