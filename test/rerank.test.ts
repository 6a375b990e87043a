// /api/rerank and /v1/rerank with a BERT reranker (random weights, rank pooling with a classifier head,
// the real bge WordPiece tokenizer) run by llama-server with --reranking; models that cannot rank are
// refused before they load.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildRandomBert } from "../bench/random-bert.js";
import { availableDrivers, ensureEngine } from "./support/engine.js";
import { createFromGguf, postJson, startTestServer, STORIES, type TestServer } from "./support/server.js";

await ensureEngine();
const skip = !availableDrivers().includes("llama-server") && "needs llama-server";

let srv: TestServer;
let dir: string;
before(async () => {
  srv = await startTestServer(skip ? {} : { CORRAL_ENGINE: "llama-server" });
  dir = await mkdtemp(join(tmpdir(), "corral-rerank-"));
  await buildRandomBert(join(dir, "ranker.gguf"), undefined, "rank");
  await buildRandomBert(join(dir, "bert.gguf"));
  await buildRandomBert(join(dir, "constant.gguf"), undefined, "rank", 0.75);
  await createFromGguf(srv.url, "ranker", join(dir, "ranker.gguf"));
  await createFromGguf(srv.url, "bert", join(dir, "bert.gguf"));
  await createFromGguf(srv.url, "constant", join(dir, "constant.gguf"));
  await createFromGguf(srv.url, "stories", STORIES);
});
after(() => srv.stop());

const rerank = (body: Record<string, unknown>, path = "/api/rerank") => postJson(srv.url, path, body);
const query = "where do cats like to sleep";
const docs = ["The cat sat on the mat.", "Quantum chromodynamics", "Paris is the capital of France", "The cat sat on the mat.", "a dog"];

interface Result {
  index: number;
  relevance_score: number;
  document?: { text: string };
}

test("every document is scored once, best first, each index naming its document", { skip }, async () => {
  const { status, json } = await rerank({ model: "ranker", query, documents: docs, return_documents: true });
  assert.equal(status, 200, JSON.stringify(json));
  assert.equal(json.model, "ranker");
  const results = json.results as Result[];
  assert.deepEqual(results.map((r) => r.index).sort(), [0, 1, 2, 3, 4]);
  for (const r of results) {
    assert.equal(typeof r.relevance_score, "number");
    assert.ok(Number.isFinite(r.relevance_score));
    assert.deepEqual(r.document, { text: docs[r.index] });
  }
  for (let i = 1; i < results.length; i++) assert.ok(results[i - 1]!.relevance_score >= results[i]!.relevance_score);
  // Token usage: every pair was evaluated, [CLS] query [SEP] document [SEP].
  assert.ok(json.usage.prompt_tokens > docs.length * 3);
  assert.equal(json.usage.total_tokens, json.usage.prompt_tokens);
});

test("the same query and document give the same score; different documents differ", { skip }, async () => {
  const first = (await rerank({ model: "ranker", query, documents: docs })).json.results as Result[];
  const score = (rs: Result[], i: number) => rs.find((r) => r.index === i)!.relevance_score;
  // Documents 0 and 3 are the same text.
  assert.equal(score(first, 0), score(first, 3));
  assert.equal(new Set(first.map((r) => r.relevance_score)).size, 4);
  // Alone, in another order, in another request: the same numbers.
  const again = (await rerank({ model: "ranker", query, documents: [docs[2], docs[0]] })).json.results as Result[];
  assert.ok(Math.abs(score(again, 0) - score(first, 2)) < 1e-5);
  assert.ok(Math.abs(score(again, 1) - score(first, 0)) < 1e-5);
  // Jina's {"text": ...} documents score as the same strings.
  const objects = (await rerank({ model: "ranker", query, documents: docs.map((text) => ({ text })) })).json.results as Result[];
  assert.deepEqual(objects, first);
  // The query matters too.
  const other = (await rerank({ model: "ranker", query: "capital cities of Europe", documents: [docs[0]] })).json.results as Result[];
  assert.notEqual(other[0]!.relevance_score, score(first, 0));
});

test("the score is the model's classifier output: a head that ignores its input scores every pair the same", { skip }, async () => {
  const { json } = await rerank({ model: "constant", query, documents: docs });
  assert.deepEqual(json.results.map((r: Result) => r.relevance_score), docs.map(() => 0.75));
  // Equal scores keep the documents' order.
  assert.deepEqual(json.results.map((r: Result) => r.index), [0, 1, 2, 3, 4]);
});

test("top_n keeps the best n; without return_documents there is no text", { skip }, async () => {
  const all = (await rerank({ model: "ranker", query, documents: docs })).json.results as Result[];
  const { status, json } = await rerank({ model: "ranker", query, documents: docs, top_n: 2 });
  assert.equal(status, 200);
  assert.deepEqual(json.results, all.slice(0, 2));
  assert.ok(json.results.every((r: Result) => !("document" in r)));
  // More than there are, or 0: all of them.
  assert.equal((await rerank({ model: "ranker", query, documents: docs, top_n: 50 })).json.results.length, docs.length);
  assert.equal((await rerank({ model: "ranker", query, documents: docs, top_n: 0 })).json.results.length, docs.length);
  const negative = await rerank({ model: "ranker", query, documents: docs, top_n: -1 });
  assert.deepEqual([negative.status, negative.json], [400, { error: "top_n must not be negative" }]);
});

test("/v1/rerank: the same answer, errors in OpenAI's shape", { skip }, async () => {
  const native = await rerank({ model: "ranker", query, documents: docs, top_n: 3, return_documents: true });
  const v1 = await rerank({ model: "ranker", query, documents: docs, top_n: 3, return_documents: true }, "/v1/rerank");
  assert.equal(v1.status, 200);
  assert.deepEqual(v1.json, native.json);
  const refused = await rerank({ model: "stories", query, documents: docs }, "/v1/rerank");
  assert.equal(refused.status, 400);
  assert.deepEqual(refused.json.error, { message: '"stories" does not support reranking', type: "invalid_request_error", param: null, code: null });
});

test("a model that cannot rank answers 400 and is not loaded", { skip }, async () => {
  for (const model of ["stories", "bert"]) {
    const res = await rerank({ model, query, documents: docs });
    assert.deepEqual([res.status, res.json], [400, { error: `"${model}" does not support reranking` }]);
  }
  const ps = (await postJson(srv.url, "/api/ps", undefined, "GET")).json.models as { name: string }[];
  assert.ok(!ps.some((m) => m.name === "stories:latest" || m.name === "bert:latest"));
  // /api/show reports what Ollama would: a pooled model embeds; there is no rerank capability.
  assert.deepEqual((await postJson(srv.url, "/api/show", { model: "ranker" })).json.capabilities, ["embedding"]);
});

test("bad requests: empty documents, no query, unknown model, wrong types, too long", { skip }, async () => {
  assert.deepEqual((await rerank({ model: "ranker", query, documents: [] })).json, {
    model: "ranker",
    results: [],
    usage: { prompt_tokens: 0, total_tokens: 0 },
  });
  assert.equal((await rerank({ model: "ranker", query })).json.results.length, 0);
  assert.deepEqual((await rerank({ model: "ranker", documents: docs })).json, { error: "query is required" });
  assert.deepEqual((await rerank({ query, documents: docs })).json, { error: "model is required" });
  const missing = await rerank({ model: "nope", query, documents: docs });
  assert.deepEqual([missing.status, missing.json], [404, { error: "model 'nope' not found" }]);
  const wrong = await rerank({ model: "ranker", query, documents: ["a", 1] });
  assert.equal(wrong.status, 400);
  assert.equal(wrong.json.error, 'documents[1] must be a string or an object with a "text" string');
  // A pair longer than the context (512 here) cannot be scored.
  const long = await rerank({ model: "ranker", query, documents: ["word ".repeat(600), "short"] });
  assert.deepEqual([long.status, long.json], [400, { error: "the input length exceeds the context length" }]);
  // The reranker still answers afterwards.
  assert.equal((await rerank({ model: "ranker", query, documents: docs })).status, 200);
});

test("a reranker does not embed: its pooled output is one score, not a vector", { skip }, async () => {
  const res = await postJson(srv.url, "/api/embed", { model: "ranker", input: "hello" });
  assert.deepEqual([res.status, res.json], [400, { error: '"ranker" does not support embeddings' }]);
});

test("the node-llama-cpp engine answers 400 naming the engine it needs", async () => {
  const other = await startTestServer({ CORRAL_ENGINE: "node-llama-cpp" });
  try {
    await createFromGguf(other.url, "ranker", join(dir, "ranker.gguf"));
    const res = await postJson(other.url, "/api/rerank", { model: "ranker", query, documents: docs });
    assert.deepEqual([res.status, res.json], [400, { error: "rerank requires the llama-server engine" }]);
  } finally {
    await other.stop();
  }
});
