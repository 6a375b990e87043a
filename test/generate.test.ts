// /api/generate on a real model through the real runner: text, streaming, stats, context, options,
// format, seeds, raw/template/system, and the error table.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { createFromGguf, ndjson, post, postJson, startTestServer, STORIES, type TestServer } from "./support/server.js";

let srv: TestServer;
before(async () => {
  srv = await startTestServer();
  await createFromGguf(srv.url, "stories", STORIES);
  await createFromGguf(srv.url, "short-stories", STORIES, {
    parameters: { num_predict: 3, temperature: 0 },
    template: "{{ .System }}|{{ .Prompt }}",
    system: "model system",
  });
});
after(() => srv.stop());

const greedy = { temperature: 0, num_predict: 24 };

test("greedy generation tells the TinyStories story, with Ollama's final stats", async () => {
  const { status, json } = await postJson(srv.url, "/api/generate", {
    model: "stories", prompt: "Once upon a time", stream: false, options: greedy,
  });
  assert.equal(status, 200);
  assert.ok(json.response.startsWith(", there was a little girl named Lily. She loved to play outside"), json.response);
  assert.equal(json.model, "stories");
  assert.equal(json.done, true);
  assert.equal(json.done_reason, "length");
  assert.equal(json.eval_count, 24);
  assert.equal(json.prompt_eval_count, 5); // BOS + 4 prompt tokens
  for (const k of ["total_duration", "load_duration", "prompt_eval_duration", "eval_duration"]) {
    assert.ok(Number.isInteger(json[k]) && json[k] > 0, `${k}=${json[k]}`);
  }
  assert.ok(json.total_duration >= json.eval_duration);
  assert.match(json.created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
  // context = tokens of prompt + response (no BOS): " Once upon a time" is 403 407 261 378.
  assert.deepEqual(json.context.slice(0, 4), [403, 407, 261, 378]);
  assert.ok(json.context.length >= 4 + 20);
});

test("streaming sends NDJSON deltas that add up to the non-streaming answer", async () => {
  const res = await post(srv.url, "/api/generate", { model: "stories", prompt: "Once upon a time", options: greedy });
  assert.equal(res.headers.get("content-type"), "application/x-ndjson");
  const lines = await ndjson(res);
  assert.ok(lines.length > 3);
  const last = lines.at(-1);
  assert.equal(last.done, true);
  assert.equal(last.response, "");
  assert.equal(last.eval_count, 24);
  for (const l of lines.slice(0, -1)) {
    assert.equal(l.done, false);
    assert.equal(typeof l.response, "string");
    assert.equal("eval_count" in l, false);
  }
  const whole = lines.map((l) => l.response).join("");
  const single = await postJson(srv.url, "/api/generate", { model: "stories", prompt: "Once upon a time", stream: false, options: greedy });
  assert.equal(whole, single.json.response);
});

test("context from one answer continues the conversation in the next", async () => {
  const first = await postJson(srv.url, "/api/generate", { model: "stories", prompt: "Once upon a time", stream: false, options: greedy });
  const render = await postJson(srv.url, "/api/generate", {
    model: "stories", prompt: " The end.", context: first.json.context, stream: false, _debug_render_only: true,
  });
  assert.equal(render.json._debug_info.rendered_template, `Once upon a time${first.json.response} The end.`);
  // Unloaded first, so the whole context is evaluated (none of it comes from the KV cache).
  await postJson(srv.url, "/api/generate", { model: "stories", keep_alive: 0 });
  const next = await postJson(srv.url, "/api/generate", {
    model: "stories", prompt: " The end.", context: first.json.context, stream: false, options: { ...greedy, num_predict: 4 },
  });
  assert.equal(next.status, 200);
  assert.ok(next.json.prompt_eval_count > first.json.prompt_eval_count + 20, String(next.json.prompt_eval_count));
  assert.ok(next.json.context.length > first.json.context.length);
});

test("request options override the model's parameters key by key; unknown options are ignored", async () => {
  const fromModel = await postJson(srv.url, "/api/generate", { model: "short-stories", prompt: "Once upon a time", stream: false });
  assert.equal(fromModel.json.eval_count, 3);
  assert.equal(fromModel.json.done_reason, "length");
  const overridden = await postJson(srv.url, "/api/generate", {
    model: "short-stories", prompt: "Once upon a time", stream: false, options: { num_predict: 6, numa: true, mirostat: 2, made_up: "x" },
  });
  assert.equal(overridden.status, 200);
  assert.equal(overridden.json.eval_count, 6);
  const badType = await postJson(srv.url, "/api/generate", {
    model: "stories", prompt: "hi", stream: false, options: { temperature: "hot" },
  });
  assert.deepEqual([badType.status, badType.json], [500, { error: 'option "temperature" must be of type float32' }]);
  const badStop = await postJson(srv.url, "/api/generate", { model: "stories", prompt: "hi", options: { stop: [1] } });
  assert.deepEqual([badStop.status, badStop.json], [500, { error: 'option "stop" must be of an array of strings' }]);
});

test("stop strings end generation before the stop text", async () => {
  const { json } = await postJson(srv.url, "/api/generate", {
    model: "stories", prompt: "Once upon a time", stream: false, options: { temperature: 0, stop: ["Lily"] },
  });
  assert.equal(json.response, ", there was a little girl named ");
  assert.equal(json.done_reason, "stop");
});

test("format: a JSON schema constrains the output", async () => {
  const schema = {
    type: "object",
    properties: { mood: { type: "string", enum: ["happy", "sad"] }, age: { type: "integer" } },
    required: ["mood", "age"],
  };
  const { status, json } = await postJson(srv.url, "/api/generate", {
    model: "stories", prompt: "Lily was", format: schema, stream: false, options: { temperature: 0.8, seed: 3, num_predict: 60 },
  });
  assert.equal(status, 200);
  const parsed = JSON.parse(json.response);
  assert.ok(["happy", "sad"].includes(parsed.mood), json.response);
  assert.ok(Number.isInteger(parsed.age), json.response);
  const json2 = await postJson(srv.url, "/api/generate", {
    model: "stories", prompt: "Lily was", format: "json", stream: false, options: { temperature: 0, num_predict: 12 },
  });
  assert.match(json2.json.response.trimStart(), /^[{[]/);
  const bad = await postJson(srv.url, "/api/generate", { model: "stories", prompt: "x", format: "xml" });
  assert.deepEqual([bad.status, bad.json], [500, { error: 'invalid format: "\\"xml\\""; expected "json" or a valid JSON Schema object' }]);
});

test("the same seed repeats a sampled answer; an unset seed varies", async () => {
  const ask = (options: Record<string, unknown>) =>
    postJson(srv.url, "/api/generate", { model: "stories", prompt: "Once upon a time", stream: false, options: { temperature: 1, num_predict: 40, ...options } });
  const a = await ask({ seed: 1234 });
  const b = await ask({ seed: 1234 });
  assert.equal(a.json.response, b.json.response);
  const answers = new Set<string>();
  for (let i = 0; i < 3; i++) answers.add((await ask({})).json.response);
  assert.ok(answers.size >= 2, [...answers].join("\n---\n"));
});

test("system and template: the model's, the request's, and raw mode", async () => {
  const render = async (body: Record<string, unknown>) =>
    (await postJson(srv.url, "/api/generate", { stream: false, _debug_render_only: true, ...body })).json._debug_info.rendered_template;
  assert.equal(await render({ model: "short-stories", prompt: "hi" }), "model system|hi");
  assert.equal(await render({ model: "short-stories", prompt: "hi", system: "request system" }), "request system|hi");
  assert.equal(await render({ model: "short-stories", prompt: "hi", template: "[{{ .Prompt }}]" }), "[hi]");
  // The default template is {{ .Prompt }}: no system text.
  assert.equal(await render({ model: "stories", prompt: "hi", system: "ignored" }), "hi");

  const raw = await postJson(srv.url, "/api/generate", { model: "short-stories", prompt: "Once upon a time", raw: true, stream: false });
  assert.equal(raw.status, 200);
  assert.equal(raw.json.eval_count, 3);
  assert.equal("context" in raw.json, false);
  const rawSystem = await postJson(srv.url, "/api/generate", { model: "stories", prompt: "x", raw: true, system: "s" });
  assert.deepEqual([rawSystem.status, rawSystem.json], [400, { error: "raw mode does not support template, system, or context" }]);
});

test("error table: missing and empty models, unsupported thinking and insert", async () => {
  const cases: [Record<string, unknown>, number, string][] = [
    [{ model: "", prompt: "x" }, 404, "model '' not found"],
    [{ prompt: "x" }, 404, "model '' not found"],
    [{ model: "nope", prompt: "x" }, 404, "model 'nope' not found"],
    [{ model: "stories", prompt: "x", think: true }, 400, '"stories" does not support thinking'],
    [{ model: "stories", prompt: "x", suffix: "y" }, 400, "registry.ollama.ai/library/stories:latest does not support insert"],
  ];
  for (const [body, status, error] of cases) {
    const res = await postJson(srv.url, "/api/generate", body);
    assert.deepEqual([res.status, res.json], [status, { error }], JSON.stringify(body));
  }
  // think:false is always fine.
  const ok = await postJson(srv.url, "/api/generate", { model: "stories", prompt: "x", think: false, stream: false, options: { num_predict: 1 } });
  assert.equal(ok.status, 200);
});
