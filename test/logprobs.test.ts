// Token log probabilities through the real llama-server engine: Ollama's shape on /api/generate and
// /api/chat, OpenAI's on /v1/chat/completions and the legacy lists on /v1/completions (official SDK),
// streaming and not; the node-llama-cpp engine refuses them clearly.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { Ollama } from "ollama";
import OpenAI from "openai";
import { availableDrivers, ensureEngine } from "./support/engine.js";
import { createFromGguf, ndjson, post, postJson, startTestServer, STORIES, uploadBlob, type TestServer } from "./support/server.js";

await ensureEngine();
const hasLlamaServer = availableDrivers().includes("llama-server");

let srv: TestServer;
let openai: OpenAI;
before(async () => {
  srv = await startTestServer(hasLlamaServer ? { CORRAL_ENGINE: "llama-server" } : {});
  openai = new OpenAI({ baseURL: `${srv.url}/v1`, apiKey: "ollama", maxRetries: 0 });
  await createFromGguf(srv.url, "stories", STORIES);
});
after(() => srv.stop());

const greedy = { temperature: 0, num_predict: 8 };
const prompt = "Once upon a time";
const utf8 = (s: string) => [...Buffer.from(s, "utf8")];

interface Lp {
  token: string;
  logprob: number;
  bytes?: number[];
  top_logprobs?: { token: string; logprob: number; bytes?: number[] }[];
}

/** What must hold for any greedy answer: real log probabilities whose tokens spell the text. */
function checkGreedy(lps: Lp[], text: string, top: number) {
  assert.ok(lps.length > 0);
  assert.equal(lps.map((l) => l.token).join(""), text);
  for (const l of lps) {
    assert.ok(Number.isFinite(l.logprob) && l.logprob <= 0, `logprob ${l.logprob}`);
    assert.deepEqual(l.bytes, utf8(l.token));
    if (top === 0) {
      assert.equal(l.top_logprobs, undefined);
      continue;
    }
    const alts = l.top_logprobs!;
    assert.equal(alts.length, top);
    // Greedy picks the most likely token: it heads its own alternatives with the same log probability.
    assert.equal(alts[0]!.token, l.token);
    assert.equal(alts[0]!.logprob, l.logprob);
    for (let i = 1; i < alts.length; i++) assert.ok(alts[i]!.logprob <= alts[i - 1]!.logprob);
    assert.equal(new Set(alts.map((a) => a.token)).size, alts.length);
    // Probabilities of distinct tokens: their sum cannot pass 1.
    assert.ok(alts.reduce((s, a) => s + Math.exp(a.logprob), 0) <= 1 + 1e-5);
  }
}

/** Same tokens and alternatives; log probabilities equal up to float noise (a cached prompt is evaluated in other batches). */
function assertSameLogprobs(a: Lp[], b: Lp[]) {
  const shape = (l: Lp[]) => l.map((x) => ({ token: x.token, bytes: x.bytes, top: x.top_logprobs?.map((t) => t.token) }));
  assert.deepEqual(shape(a), shape(b));
  const numbers = (l: Lp[]) => l.flatMap((x) => [x.logprob, ...(x.top_logprobs ?? []).map((t) => t.logprob)]);
  const nb = numbers(b);
  numbers(a).forEach((x, i) => assert.ok(Math.abs(x - nb[i]!) < 1e-3, `${x} vs ${nb[i]}`));
}

test("/api/generate: one entry per generated token with its alternatives, streaming and not", { skip: !hasLlamaServer && "needs llama-server" }, async () => {
  const body = { model: "stories", prompt, raw: true, logprobs: true, top_logprobs: 3, options: greedy };
  const whole = await postJson(srv.url, "/api/generate", { ...body, stream: false });
  assert.equal(whole.status, 200, whole.text);
  assert.equal(whole.json.eval_count, 8);
  assert.equal(whole.json.logprobs.length, 8);
  checkGreedy(whole.json.logprobs, whole.json.response, 3);
  // logprobs is the last field, as in Ollama's GenerateResponse.
  assert.equal(Object.keys(whole.json).at(-1), "logprobs");

  const lines = await ndjson(await post(srv.url, "/api/generate", body));
  const last = lines.at(-1);
  assert.equal(last.done, true);
  assert.equal(last.logprobs, undefined);
  for (const l of lines.slice(0, -1)) assert.equal(l.logprobs.map((x: Lp) => x.token).join(""), l.response);
  // Greedy decoding gives the same tokens and numbers either way (up to the float noise of a cached prompt).
  assertSameLogprobs(lines.flatMap((l) => l.logprobs ?? []), whole.json.logprobs);
});

test("/api/generate: logprobs without top_logprobs has no alternatives; neither flag or top_logprobs alone has none", { skip: !hasLlamaServer && "needs llama-server" }, async () => {
  const base = { model: "stories", prompt, raw: true, stream: false, options: greedy };
  const plain = await postJson(srv.url, "/api/generate", { ...base, logprobs: true });
  checkGreedy(plain.json.logprobs, plain.json.response, 0);
  for (const extra of [{}, { top_logprobs: 5 }, { logprobs: false }]) {
    const res = await postJson(srv.url, "/api/generate", { ...base, ...extra });
    assert.equal(res.status, 200);
    assert.equal(res.json.response, plain.json.response);
    assert.ok(!("logprobs" in res.json), JSON.stringify(extra));
  }
  const bad = await postJson(srv.url, "/api/generate", { ...base, logprobs: true, top_logprobs: 21 });
  assert.deepEqual([bad.status, bad.json], [400, { error: "top_logprobs must be between 0 and 20" }]);
});

test("log probabilities come before sampling: a hot sampler reports the same distribution for the first token", { skip: !hasLlamaServer && "needs llama-server" }, async () => {
  const ask = async (options: Record<string, unknown>) =>
    (await postJson(srv.url, "/api/generate", { model: "stories", prompt, raw: true, stream: false, logprobs: true, top_logprobs: 5, options })).json;
  const cold = await ask({ temperature: 0, num_predict: 1 });
  const hot = await ask({ temperature: 1.5, top_k: 3, seed: 7, num_predict: 1 });
  assertSameLogprobs(hot.logprobs[0].top_logprobs, cold.logprobs[0].top_logprobs);
  // The sampled token's own log probability is among (or below) the reported alternatives.
  const alt = hot.logprobs[0].top_logprobs.find((a: Lp) => a.token === hot.logprobs[0].token);
  if (alt) assert.equal(alt.logprob, hot.logprobs[0].logprob);
  else assert.ok(hot.logprobs[0].logprob <= hot.logprobs[0].top_logprobs.at(-1).logprob);
});

test("text held back for a stop string: the entries still spell exactly the answer", { skip: !hasLlamaServer && "needs llama-server" }, async () => {
  const body = { model: "stories", prompt, raw: true, logprobs: true, top_logprobs: 2, options: { ...greedy, stop: ["little"] } };
  const whole = await postJson(srv.url, "/api/generate", { ...body, stream: false });
  assert.equal(whole.json.response, ", there was a ");
  assert.equal(whole.json.logprobs.map((l: Lp) => l.token).join(""), whole.json.response);
  const lines = await ndjson(await post(srv.url, "/api/generate", body));
  assert.equal(lines.map((l) => l.response).join(""), whole.json.response);
  assert.equal(lines.flatMap((l) => l.logprobs ?? []).map((l: Lp) => l.token).join(""), whole.json.response);
});

test("a character split over byte tokens is one entry with all its bytes; the entries still spell the answer", { skip: !hasLlamaServer && "needs llama-server" }, async () => {
  // The grammar makes this tiny English model write characters its vocabulary spells in bytes.
  const body = { model: "stories", prompt, raw: true, logprobs: true, top_logprobs: 2, format: { enum: ["café ☕"] }, options: { temperature: 0, num_predict: 20 } };
  const whole = await postJson(srv.url, "/api/generate", { ...body, stream: false });
  assert.equal(whole.json.response, '"café ☕"');
  const lps = whole.json.logprobs as Lp[];
  assert.equal(lps.map((l) => l.token).join(""), whole.json.response);
  assert.ok(lps.length < whole.json.eval_count, `${lps.length} entries for ${whole.json.eval_count} tokens`);
  for (const ch of ["é", "☕"]) assert.deepEqual(lps.find((l) => l.token === ch)?.bytes, utf8(ch));
  for (const l of lps) assert.ok(l.logprob <= 0 && l.top_logprobs!.length === 2);
  const lines = await ndjson(await post(srv.url, "/api/generate", body));
  assert.deepEqual(lines.flatMap((l) => l.logprobs ?? []).map((l: Lp) => l.token), lps.map((l) => l.token));
});

test("/api/chat: logprobs on each chunk after done and before the metrics, joined when not streaming", { skip: !hasLlamaServer && "needs llama-server" }, async () => {
  const body = { model: "stories", messages: [{ role: "user", content: prompt }], logprobs: true, top_logprobs: 2, options: greedy };
  const whole = await postJson(srv.url, "/api/chat", { ...body, stream: false });
  assert.equal(whole.status, 200, whole.text);
  checkGreedy(whole.json.logprobs, whole.json.message.content, 2);
  const keys = Object.keys(whole.json);
  assert.deepEqual(keys.slice(0, 6), ["model", "created_at", "message", "done", "done_reason", "logprobs"]);
  assert.equal(keys[6], "total_duration");

  const lines = await ndjson(await post(srv.url, "/api/chat", body));
  for (const l of lines.slice(0, -1)) {
    assert.deepEqual(Object.keys(l), ["model", "created_at", "message", "done", "logprobs"]);
    assert.equal(l.logprobs.map((x: Lp) => x.token).join(""), l.message.content);
  }
  assertSameLogprobs(lines.flatMap((l) => l.logprobs ?? []), whole.json.logprobs);
});

test("the ollama client reads logprobs from generate and chat, streaming and not", { skip: !hasLlamaServer && "needs llama-server" }, async () => {
  const ollama = new Ollama({ host: srv.url });
  const gen = await ollama.generate({ model: "stories", prompt, raw: true, logprobs: true, top_logprobs: 1, options: { temperature: 0, num_predict: 5 } });
  checkGreedy(gen.logprobs as Lp[], gen.response ?? "", 1);
  const parts = await ollama.chat({
    model: "stories", messages: [{ role: "user", content: prompt }], stream: true, logprobs: true, options: { temperature: 0, num_predict: 5 },
  });
  const streamed: Lp[] = [];
  let text = "";
  for await (const part of parts) {
    streamed.push(...((part.logprobs ?? []) as Lp[]));
    text += part.message.content;
  }
  checkGreedy(streamed, text, 0);
});

test("/v1/chat/completions (openai SDK): logprobs.content with bytes and top_logprobs, streaming and not", { skip: !hasLlamaServer && "needs llama-server" }, async () => {
  const req = { model: "stories", messages: [{ role: "user" as const, content: prompt }], temperature: 0, max_tokens: 8, logprobs: true, top_logprobs: 2 };
  const res = await openai.chat.completions.create(req);
  const content = res.choices[0]!.logprobs!.content!;
  assert.equal(content.length, 8);
  assert.equal(content.map((c) => c.token).join(""), res.choices[0]!.message.content);
  for (const c of content) {
    assert.deepEqual(c.bytes, utf8(c.token));
    assert.equal(c.top_logprobs.length, 2);
    assert.equal(c.top_logprobs[0]!.token, c.token);
    assert.equal(c.top_logprobs[0]!.logprob, c.logprob);
    assert.ok(c.logprob <= 0);
  }

  const stream = await openai.chat.completions.create({ ...req, stream: true });
  const streamed: typeof content = [];
  let text = "";
  for await (const chunk of stream) {
    const choice = chunk.choices[0];
    if (!choice) continue;
    text += choice.delta.content ?? "";
    streamed.push(...(choice.logprobs?.content ?? []));
  }
  assert.equal(text, res.choices[0]!.message.content);
  assertSameLogprobs(streamed as Lp[], content as Lp[]);

  // Without the flag, no logprobs.
  const none = await openai.chat.completions.create({ ...req, logprobs: false, top_logprobs: undefined });
  assert.equal(none.choices[0]!.logprobs ?? null, null);
});

test("/v1/completions (openai SDK): legacy tokens, token_logprobs, top_logprobs and text_offset, with Ollama's content beside them, streaming and not", { skip: !hasLlamaServer && "needs llama-server" }, async () => {
  const req = { model: "stories", prompt, temperature: 0, max_tokens: 8, logprobs: 3 };
  const res = await openai.completions.create(req);
  const choice = res.choices[0]!;
  const lp = choice.logprobs!;
  assert.equal(lp.tokens!.length, 8);
  assert.equal(lp.tokens!.join(""), choice.text);
  assert.equal(lp.token_logprobs!.length, 8);
  let offset = 0;
  lp.tokens!.forEach((tok, i) => {
    assert.equal(lp.text_offset![i], offset);
    offset += tok.length;
    const alts = Object.entries(lp.top_logprobs![i]!);
    assert.equal(alts.length, 3);
    // The chosen token is the likeliest and carries the same number.
    const best = alts.reduce((a, b) => (b[1] > a[1] ? b : a));
    assert.deepEqual(best, [tok, lp.token_logprobs![i]]);
  });
  // Ollama's own /v1/completions answers chat's `content`: scripts written against it find it too.
  const content = (lp as unknown as { content: { token: string; logprob: number; top_logprobs: unknown[] }[] }).content;
  assert.deepEqual(content.map((c) => c.token), lp.tokens);
  assert.deepEqual(content.map((c) => c.logprob), lp.token_logprobs);
  assert.ok(content.every((c) => c.top_logprobs.length === 3));

  const stream = await openai.completions.create({ ...req, stream: true });
  const tokens: string[] = [];
  const offsets: number[] = [];
  for await (const chunk of stream) {
    const l = chunk.choices[0]?.logprobs;
    if (l) {
      tokens.push(...l.tokens!);
      offsets.push(...l.text_offset!);
    }
  }
  assert.deepEqual(tokens, lp.tokens);
  assert.deepEqual(offsets, lp.text_offset);

  // logprobs 0 (or absent) asks for nothing.
  const none = await openai.completions.create({ ...req, logprobs: 0 });
  assert.equal(none.choices[0]!.logprobs ?? null, null);
});

test("a model decoded with a draft refuses logprobs: accepted draft tokens carry no probabilities", { skip: !hasLlamaServer && "needs llama-server" }, async () => {
  const digest = await uploadBlob(srv.url, STORIES);
  const create = await postJson(srv.url, "/api/create", { model: "stories-draft", files: { "model.gguf": digest }, draft_files: { "draft.gguf": digest }, stream: false });
  assert.equal(create.status, 200, create.text);
  const res = await postJson(srv.url, "/api/generate", { model: "stories-draft", prompt, raw: true, logprobs: true, options: greedy });
  assert.deepEqual([res.status, res.json], [400, { error: "logprobs are not available with a draft model" }]);
  const ok = await postJson(srv.url, "/api/generate", { model: "stories-draft", prompt, raw: true, stream: false, options: greedy });
  assert.equal(ok.status, 200, ok.text);
});

test("the node-llama-cpp engine answers 400 naming the engine it needs", async () => {
  const other = await startTestServer({ CORRAL_ENGINE: "node-llama-cpp" });
  try {
    await createFromGguf(other.url, "stories", STORIES);
    const res = await postJson(other.url, "/api/generate", { model: "stories", prompt, raw: true, logprobs: true, options: greedy });
    assert.deepEqual([res.status, res.json], [400, { error: "logprobs requires the llama-server engine" }]);
    const chat = await postJson(other.url, "/v1/chat/completions", { model: "stories", messages: [{ role: "user", content: prompt }], logprobs: true });
    assert.equal(chat.status, 400);
    assert.equal(chat.json.error.message, "logprobs requires the llama-server engine");
    // Without logprobs the same model answers.
    const ok = await postJson(other.url, "/api/generate", { model: "stories", prompt, raw: true, stream: false, options: greedy });
    assert.equal(ok.status, 200);
  } finally {
    await other.stop();
  }
});

test("chat format on a thinking model: the thinking and the constrained content carry their logprobs", { skip: !hasLlamaServer }, async () => {
  // "time" (the prompt's last word) pre-opens the thinking and "Lily" closes it; see thinking.test.ts.
  const template = "{{ range .Messages }}{{ if .Thinking }}time{{ .Thinking }}Lily{{ end }}{{ .Content }}{{ end }}";
  await createFromGguf(srv.url, "lp-thinker", STORIES, { template });
  const lines = await ndjson(
    await post(srv.url, "/api/chat", {
      model: "lp-thinker",
      format: "json",
      logprobs: true,
      messages: [{ role: "user", content: "Once upon a time" }],
      options: { temperature: 0, num_predict: 12 },
    }),
  );
  type Line = { message: { content: string; thinking?: string }; logprobs?: { token: string; logprob: number }[] };
  const all = lines as Line[];
  const thinking = all.filter((l) => l.message.thinking);
  const content = all.filter((l) => l.message.content);
  assert.ok(thinking.some((l) => l.logprobs?.length), "thinking chunks carry logprobs");
  assert.ok(content.length > 0 && content.every((l) => l.logprobs?.length), "every constrained content chunk carries logprobs");
  for (const l of all) for (const lp of l.logprobs ?? []) assert.ok(lp.logprob <= 0, JSON.stringify(lp));
  // The second pass's tokens spell exactly the content it wrote.
  const tokens = content.flatMap((l) => l.logprobs!.map((lp) => lp.token)).join("");
  assert.equal(tokens.trim(), content.map((l) => l.message.content).join("").trim());
});
