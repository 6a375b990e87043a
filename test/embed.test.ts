// /api/embed and /api/embeddings with a BERT embedding model (random weights, real tokenizer) and a
// generative model, through the real runner.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Ollama } from "ollama";
import { buildRandomBert } from "../bench/random-bert.js";
import { createFromGguf, postJson, startTestServer, STORIES, type TestServer } from "./support/server.js";

let srv: TestServer;
before(async () => {
  srv = await startTestServer();
  const bert = join(await mkdtemp(join(tmpdir(), "corral-bert-")), "bert.gguf");
  await buildRandomBert(bert);
  await createFromGguf(srv.url, "bert", bert);
  await createFromGguf(srv.url, "stories", STORIES);
});
after(() => srv.stop());

const norm = (v: number[]) => Math.sqrt(v.reduce((s, x) => s + x * x, 0));
const embed = (body: Record<string, unknown>) => postJson(srv.url, "/api/embed", body);
const close = (a: number[], b: number[], eps = 1e-5) => a.length === b.length && a.every((x, i) => Math.abs(x - b[i]!) < eps);

test("an embedding model returns unit vectors in input order, the same for the same text", async () => {
  const texts = ["The cat sat on the mat.", "Quantum chromodynamics", "The cat sat on the mat."];
  const { status, json } = await embed({ model: "bert", input: texts });
  assert.equal(status, 200);
  assert.equal(json.model, "bert");
  assert.equal(json.embeddings.length, 3);
  for (const v of json.embeddings) {
    assert.equal(v.length, 64);
    assert.ok(Math.abs(norm(v) - 1) < 1e-5, String(norm(v)));
  }
  assert.deepEqual(json.embeddings[0], json.embeddings[2]);
  assert.ok(!close(json.embeddings[0], json.embeddings[1]));
  assert.ok(json.prompt_eval_count > 6);
  assert.ok(json.total_duration > 0);
  // A batch gives what one-by-one requests give.
  for (let i = 0; i < texts.length; i++) {
    const one = await embed({ model: "bert", input: texts[i] });
    assert.ok(close(one.json.embeddings[0], json.embeddings[i]), `input ${i}`);
  }
});

test("dimensions cuts and re-normalises; truncate controls over-long input", async () => {
  const full = (await embed({ model: "bert", input: "hello world" })).json.embeddings[0] as number[];
  const cut = (await embed({ model: "bert", input: "hello world", dimensions: 16 })).json.embeddings[0] as number[];
  assert.equal(cut.length, 16);
  assert.ok(Math.abs(norm(cut) - 1) < 1e-5);
  const expected = full.slice(0, 16).map((x) => x / norm(full.slice(0, 16)));
  assert.ok(close(cut, expected));
  assert.equal((await embed({ model: "bert", input: "hello", dimensions: 1000 })).json.embeddings[0].length, 64);

  const long = "word ".repeat(2000);
  const refused = await embed({ model: "bert", input: long, truncate: false });
  assert.deepEqual([refused.status, refused.json], [400, { error: "the input length exceeds the context length" }]);
  const truncated = await embed({ model: "bert", input: long });
  assert.equal(truncated.status, 200);
  assert.ok(truncated.json.prompt_eval_count <= 512, String(truncated.json.prompt_eval_count));
});

test("empty input loads the model; bad input and missing models get Ollama's errors", async () => {
  assert.deepEqual((await embed({ model: "bert", input: [] })).json, { model: "bert", embeddings: [] });
  assert.deepEqual((await embed({ model: "bert" })).json, { model: "bert", embeddings: [] });
  const ps = (await postJson(srv.url, "/api/ps", undefined, "GET")).json.models;
  assert.ok(ps.some((m: { name: string }) => m.name === "bert:latest"));
  assert.deepEqual((await embed({ model: "bert", input: 5 })).json, { error: "invalid input type" });
  assert.deepEqual((await embed({ model: "bert", input: ["a", 1] })).json, { error: "invalid input type" });
  const missing = await embed({ model: "nope", input: "x" });
  assert.deepEqual([missing.status, missing.json], [404, { error: "model 'nope' not found" }]);
});

test("a generative model embeds too; an embedding model cannot generate", async () => {
  const texts = ["Once upon a time", "Lily", "Once upon a time"];
  const { status, json } = await embed({ model: "stories", input: texts });
  assert.equal(status, 200);
  assert.equal(json.embeddings[0].length, 64);
  assert.deepEqual(json.embeddings[0], json.embeddings[2]);
  for (let i = 0; i < texts.length; i++) {
    assert.ok(Math.abs(norm(json.embeddings[i]) - 1) < 1e-5);
    const one = await embed({ model: "stories", input: texts[i] });
    assert.ok(close(one.json.embeddings[0], json.embeddings[i]), `input ${i}`);
  }
  const gen = await postJson(srv.url, "/api/generate", { model: "bert", prompt: "hi" });
  assert.deepEqual([gen.status, gen.json], [400, { error: '"bert" does not support generate' }]);
  const show = await postJson(srv.url, "/api/show", { model: "bert" });
  assert.deepEqual(show.json.capabilities, ["embedding"]);
});

test("legacy /api/embeddings returns the raw, unnormalised vector", async () => {
  const legacy = await postJson(srv.url, "/api/embeddings", { model: "bert", prompt: "hello world" });
  assert.equal(legacy.status, 200);
  const raw = legacy.json.embedding as number[];
  assert.equal(raw.length, 64);
  const unit = (await embed({ model: "bert", input: "hello world" })).json.embeddings[0] as number[];
  assert.ok(close(raw.map((x) => x / norm(raw)), unit));
  assert.deepEqual((await postJson(srv.url, "/api/embeddings", { model: "bert", prompt: "" })).json, { embedding: [] });
  assert.deepEqual((await postJson(srv.url, "/api/embeddings", { prompt: "x" })).json, { error: "model is required" });
  const missing = await postJson(srv.url, "/api/embeddings", { model: "nope", prompt: "x" });
  assert.deepEqual([missing.status, missing.json], [404, { error: 'model "nope" not found, try pulling it first' }]);
});

test("the ollama client's embed and embeddings", async () => {
  const ollama = new Ollama({ host: srv.url });
  const res = await ollama.embed({ model: "bert", input: ["a", "b"], dimensions: 8 });
  assert.equal(res.embeddings.length, 2);
  assert.equal(res.embeddings[0]!.length, 8);
  const legacy = await ollama.embeddings({ model: "bert", prompt: "a" });
  assert.equal(legacy.embedding.length, 64);
});
