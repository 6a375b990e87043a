// llama.cpp's own server as the engine, end to end through corral's HTTP API: Ollama's generation
// cap, concurrent streams decoded together, a killed engine process, RPC workers, a draft model.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { RUNNER_STOPPED_MESSAGE } from "../src/runner/protocol.js";
import { runCli } from "./support/cli.js";
import { config, ensureEngine } from "./support/engine.js";
import { CLI } from "./support/cli.js";
import { createFromGguf, freePort, post, postJson, startTestServer, STORIES, uploadBlob, type TestServer } from "./support/server.js";

await ensureEngine();
const onLlamaServer = config.engine !== "node-llama-cpp";

function childrenOf(pid: number): number[] {
  try {
    return execFileSync("pgrep", ["-P", String(pid)]).toString().trim().split("\n").filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** The llama-server processes under a corral server (server -> runner -> llama-server). */
function llamaServers(srv: TestServer): number[] {
  return childrenOf(srv.proc.pid!)
    .flatMap(childrenOf)
    .filter((pid) => readFileSync(`/proc/${pid}/cmdline`, "utf8").includes("llama-server"));
}

/** Streams /api/generate; returns the text and when the first and last lines arrived. */
async function timedStream(url: string, body: object) {
  const res = await post(url, "/api/generate", body);
  const decoder = new TextDecoder();
  let buf = "";
  let text = "";
  let first = 0;
  let last: any;
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    first ||= performance.now();
    buf += decoder.decode(chunk, { stream: true });
    for (let i = buf.indexOf("\n"); i >= 0; i = buf.indexOf("\n")) {
      const line = JSON.parse(buf.slice(0, i));
      buf = buf.slice(i + 1);
      text += line.response ?? "";
      last = line;
    }
  }
  return { text, first, end: performance.now(), last };
}

describe("llama-server engine", { skip: !onLlamaServer && "CORRAL_ENGINE=node-llama-cpp" }, () => {
  let srv: TestServer;
  before(async () => {
    srv = await startTestServer();
    // stories260K never emits EOS by itself, so only the cap ends its answers.
    await createFromGguf(srv.url, "stories", STORIES, { parameters: { num_ctx: 256 } });
  });
  after(async () => srv?.stop());

  test("default options: generation ends at Ollama's cap of 10 x num_ctx with done_reason length", { timeout: 120_000 }, async () => {
    const r = await postJson(srv.url, "/api/generate", { model: "stories", prompt: "Once upon a time", stream: false });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.done_reason, "length");
    assert.equal(r.json.eval_count, 2560);
    assert.equal(llamaServers(srv).length, 1);
  });

  test("`corral run` with a prompt returns and prints the story", { timeout: 120_000 }, async () => {
    const r = await runCli(srv.url, ["run", "stories", "Once upon a time"]);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.stdout.length > 1000, `${r.stdout.length} characters`);
  });

  test("four concurrent streams with default settings are decoded together, each as it would be alone", { timeout: 120_000 }, async () => {
    const prompts = ["Once upon a time", "Tom had a", "The sun was", "Lily and her mom"];
    const body = (prompt: string) => ({ model: "stories", prompt, options: { temperature: 0, num_predict: 400, num_ctx: 512 } });
    const alone = [];
    for (const p of prompts) alone.push((await timedStream(srv.url, body(p))).text);
    const together = await Promise.all(prompts.map((p) => timedStream(srv.url, body(p))));
    assert.deepEqual(together.map((t) => t.text), alone);
    // Served one at a time, a stream would only start after another ended.
    const lastStart = Math.max(...together.map((t) => t.first));
    const firstEnd = Math.min(...together.map((t) => t.end));
    assert.ok(lastStart < firstEnd, `streams did not overlap: last start ${lastStart}, first end ${firstEnd}`);
  });

  test("SIGKILL of llama-server mid-stream: Ollama's error line, the server stays up, the next request reloads", { timeout: 120_000 }, async () => {
    const res = await post(srv.url, "/api/generate", { model: "stories", prompt: "Once upon a time", options: { num_ctx: 1024 } });
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    await reader.read();
    const pids = llamaServers(srv);
    for (const pid of pids) process.kill(pid, "SIGKILL");
    let text = "";
    for (let r = await reader.read(); !r.done; r = await reader.read()) text += new TextDecoder().decode(r.value);
    const lines = text.split("\n").filter(Boolean).map((l) => JSON.parse(l));
    assert.deepEqual(lines.at(-1), { error: RUNNER_STOPPED_MESSAGE });
    assert.equal((await fetch(srv.url)).status, 200);
    const again = await postJson(srv.url, "/api/generate", { model: "stories", prompt: "Once", stream: false, options: { num_predict: 5, num_ctx: 1024 } });
    assert.equal(again.status, 200, again.text);
    assert.equal(again.json.eval_count, 5);
    assert.ok(llamaServers(srv).every((pid) => !pids.includes(pid)));
  });

  test("a model with itself as DRAFT decodes speculatively to the same greedy text", { timeout: 120_000 }, async () => {
    const digest = await uploadBlob(srv.url, STORIES);
    const create = await postJson(srv.url, "/api/create", {
      model: "stories-draft", files: { "model.gguf": digest }, draft_files: { "draft.gguf": digest }, stream: false,
    });
    assert.equal(create.status, 200, create.text);
    const show = await postJson(srv.url, "/api/show", { model: "stories-draft" });
    assert.equal(show.status, 200);
    const ask = (model: string) =>
      postJson(srv.url, "/api/generate", { model, prompt: "Once upon a time", stream: false, options: { temperature: 0, num_predict: 200 } });
    const plain = await ask("stories");
    const drafted = await ask("stories-draft");
    assert.equal(drafted.status, 200, drafted.text);
    assert.equal(drafted.json.response, plain.json.response);
    const cmd = llamaServers(srv).map((pid) => readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0"));
    assert.ok(cmd.some((args) => args.includes("--spec-draft-model")), "a llama-server runs with the draft model");
  });
});

describe("models split over llama.cpp RPC workers", { skip: !onLlamaServer && "CORRAL_ENGINE=node-llama-cpp" }, () => {
  const workers: { proc: ChildProcess; port: number; log: () => string }[] = [];
  before(async () => {
    for (let i = 0; i < 2; i++) {
      const port = await freePort();
      let log = "";
      const proc = spawn(process.execPath, [CLI, "rpc-server", "--port", String(port), "--threads", "1"], { stdio: ["ignore", "pipe", "pipe"] });
      proc.stdout!.on("data", (d) => (log += d));
      proc.stderr!.on("data", (d) => (log += d));
      for (let t = 0; t < 100 && !log.includes("endpoint"); t++) await new Promise((r) => setTimeout(r, 50));
      workers.push({ proc, port, log: () => log });
    }
  });
  after(() => {
    for (const w of workers) w.proc.kill("SIGTERM");
  });

  test("two rpc-server workers on loopback give the same greedy output as local", { timeout: 120_000 }, async () => {
    const ask = async (env: Record<string, string>) => {
      const srv = await startTestServer(env);
      try {
        await createFromGguf(srv.url, "stories", STORIES);
        const r = await postJson(srv.url, "/api/generate", { model: "stories", prompt: "Once upon a time", stream: false, options: { temperature: 0, num_predict: 40 } });
        assert.equal(r.status, 200, r.text);
        return r.json.response as string;
      } finally {
        await srv.stop();
      }
    };
    const local = await ask({});
    const split = await ask({ CORRAL_RPC_SERVERS: workers.map((w) => `127.0.0.1:${w.port}`).join(",") });
    assert.equal(split, local);
    for (const w of workers) assert.match(w.log(), /Accepted client connection/);
  });
});
