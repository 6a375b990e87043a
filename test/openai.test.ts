// The OpenAI-compatible API driven by the official `openai` SDK, unchanged, pointed at /v1.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import OpenAI from "openai";
import { buildRandomBert } from "../bench/random-bert.js";
import { createFromGguf, postJson, startTestServer, STORIES, type TestServer } from "./support/server.js";
import { callSchema, JSON_CALLS, weather } from "./support/tools.js";

let srv: TestServer;
let openai: OpenAI;
before(async () => {
  srv = await startTestServer();
  openai = new OpenAI({ baseURL: `${srv.url}/v1`, apiKey: "ollama", maxRetries: 0 });
  await createFromGguf(srv.url, "stories", STORIES);
  const bert = join(await mkdtemp(join(tmpdir(), "corral-bert-")), "bert.gguf");
  await buildRandomBert(bert);
  await createFromGguf(srv.url, "bert", bert);
});
after(() => srv.stop());

const story = [{ role: "user" as const, content: "Once upon a time" }];

test("chat completion, non-streaming: content, finish reason and usage", async () => {
  const res = await openai.chat.completions.create({ model: "stories", messages: story, temperature: 0, max_tokens: 10 });
  assert.equal(res.object, "chat.completion");
  assert.match(res.id, /^chatcmpl-/);
  assert.equal(res.model, "stories");
  const choice = res.choices[0]!;
  assert.equal(choice.message.role, "assistant");
  assert.ok(choice.message.content!.startsWith(", there was a little girl"), choice.message.content!);
  assert.equal(choice.finish_reason, "length");
  assert.deepEqual(res.usage, { prompt_tokens: 5, completion_tokens: 10, total_tokens: 15 });
  // max_completion_tokens works too.
  const alt = await openai.chat.completions.create({ model: "stories", messages: story, temperature: 0, max_completion_tokens: 3 });
  assert.equal(alt.usage!.completion_tokens, 3);
});

test("chat completion, streaming: deltas add up, role once, a finish chunk, usage on request", async () => {
  const whole = (await openai.chat.completions.create({ model: "stories", messages: story, temperature: 0, max_tokens: 12 })).choices[0]!.message.content;
  // Unloaded, so usage counts the whole prompt rather than the last token after a cached prefix.
  await fetch(`${srv.url}/api/generate`, { method: "POST", body: JSON.stringify({ model: "stories", keep_alive: 0 }) });
  const stream = await openai.chat.completions.create({
    model: "stories", messages: story, temperature: 0, max_tokens: 12, stream: true, stream_options: { include_usage: true },
  });
  let text = "";
  let roles = 0;
  let finish: string | null = null;
  let usage;
  for await (const chunk of stream) {
    assert.equal(chunk.object, "chat.completion.chunk");
    if (chunk.usage) usage = chunk.usage;
    const c = chunk.choices[0];
    if (!c) continue;
    if (c.delta.role) roles++;
    text += c.delta.content ?? "";
    if (c.finish_reason) finish = c.finish_reason;
  }
  assert.equal(text, whole);
  assert.equal(roles, 1);
  assert.equal(finish, "length");
  assert.deepEqual(usage, { prompt_tokens: 5, completion_tokens: 12, total_tokens: 17 });
});

test("seed, stop and the OpenAI sampling defaults", async () => {
  const ask = (extra: Record<string, unknown>) =>
    openai.chat.completions.create({ model: "stories", messages: story, max_tokens: 30, ...extra });
  const a = await ask({ seed: 7 });
  const b = await ask({ seed: 7 });
  assert.equal(a.choices[0]!.message.content, b.choices[0]!.message.content);
  const stopped = await ask({ temperature: 0, stop: "Lily" });
  assert.equal(stopped.choices[0]!.message.content, ", there was a little girl named ");
  assert.equal(stopped.choices[0]!.finish_reason, "stop");
  // temperature defaults to 1 (not the model's 0.8): the rendered request carries it through to sampling,
  // so an unseeded request varies.
  const outs = new Set<string>();
  for (let i = 0; i < 3; i++) outs.add((await ask({})).choices[0]!.message.content!);
  assert.ok(outs.size >= 2);
});

test("response_format json_schema constrains the answer", async () => {
  const res = await openai.chat.completions.create({
    model: "stories",
    messages: [{ role: "user", content: "Lily" }],
    seed: 1,
    response_format: {
      type: "json_schema",
      json_schema: { name: "pet", schema: { type: "object", properties: { kind: { type: "string", enum: ["cat", "dog"] } }, required: ["kind"] } },
    },
  });
  const parsed = JSON.parse(res.choices[0]!.message.content!);
  assert.ok(["cat", "dog"].includes(parsed.kind));
});

test("content parts: text parts merge, base64 images reach the model, remote images refused", async () => {
  const render = await postJson(srv.url, "/v1/chat/completions", {
    model: "stories",
    _debug_render_only: true,
    messages: [{ role: "user", content: [{ type: "text", text: "Once upon" }, { type: "text", text: "a time" }] }],
  });
  assert.equal(render.status, 200, render.text);
  // Each part became a message; the template layer merges them back with a blank line.
  assert.equal(render.json._debug_info.rendered_template, "Once upon\n\na time");
  // A well-formed image part gets as far as the model, which here has no projector to see it with.
  await assert.rejects(
    openai.chat.completions.create({
      model: "stories",
      max_tokens: 2,
      messages: [{ role: "user", content: [{ type: "text", text: "Look" }, { type: "image_url", image_url: { url: "data:image/png;base64,iVBORw0KGgo=" } }] }],
    }),
    (e: InstanceType<typeof OpenAI.APIError>) => {
      assert.equal(e.status, 400);
      assert.equal(e.message, "400 this model is missing data required for image input");
      return true;
    },
  );
  await assert.rejects(
    openai.chat.completions.create({
      model: "stories",
      messages: [{ role: "user", content: [{ type: "image_url", image_url: { url: "https://example.com/cat.png" } }] }],
    }),
    (e: InstanceType<typeof OpenAI.APIError>) => {
      assert.equal(e.status, 400);
      assert.equal(e.message, "400 image URLs are not currently supported, please use base64 encoded data instead");
      return true;
    },
  );
});

test("errors take OpenAI's shape with the native status", async () => {
  await assert.rejects(openai.chat.completions.create({ model: "missing", messages: story }), (e: InstanceType<typeof OpenAI.APIError>) => {
    assert.ok(e instanceof OpenAI.NotFoundError);
    assert.equal((e.error as { type: string }).type, "not_found_error");
    assert.equal((e.error as { message: string }).message, "model 'missing' not found");
    return true;
  });
  const empty = await postJson(srv.url, "/v1/chat/completions", { model: "stories", messages: [] });
  assert.deepEqual([empty.status, empty.json], [400, { error: { message: "[] is too short - 'messages'", type: "invalid_request_error", param: null, code: null } }]);
  const effort = await postJson(srv.url, "/v1/chat/completions", { model: "stories", messages: story, reasoning_effort: "huge" });
  assert.equal(effort.status, 400);
  assert.match(effort.json.error.message, /^invalid reasoning value: "huge"/);
});

test("text completions, streaming and not", async () => {
  const res = await openai.completions.create({ model: "stories", prompt: "Once upon a time", temperature: 0, max_tokens: 8 });
  assert.equal(res.object, "text_completion");
  assert.ok(res.choices[0]!.text.startsWith(", there was"), res.choices[0]!.text);
  assert.equal(res.choices[0]!.finish_reason, "length");
  assert.equal(res.usage!.completion_tokens, 8);
  let text = "";
  let finish;
  for await (const c of await openai.completions.create({ model: "stories", prompt: "Once upon a time", temperature: 0, max_tokens: 8, stream: true })) {
    text += c.choices[0]?.text ?? "";
    finish = c.choices[0]?.finish_reason ?? finish;
  }
  assert.equal(text, res.choices[0]!.text);
  assert.equal(finish, "length");
});

test("embeddings: float and base64 encodings agree, dimensions cut", async () => {
  const float = await openai.embeddings.create({ model: "bert", input: ["hello", "world"], encoding_format: "float" });
  assert.equal(float.data.length, 2);
  assert.equal(float.data[1]!.index, 1);
  assert.equal(float.data[0]!.embedding.length, 64);
  // The SDK asks for base64 by default and decodes it itself.
  const b64 = await openai.embeddings.create({ model: "bert", input: ["hello", "world"] });
  for (let i = 0; i < 2; i++) {
    b64.data[i]!.embedding.forEach((x, j) => assert.ok(Math.abs(x - float.data[i]!.embedding[j]!) < 1e-6));
  }
  assert.ok(float.usage.prompt_tokens > 0);
  const cut = await openai.embeddings.create({ model: "bert", input: "hello", dimensions: 8, encoding_format: "float" });
  assert.equal(cut.data[0]!.embedding.length, 8);
  const bad = await postJson(srv.url, "/v1/embeddings", { model: "bert", input: [] });
  assert.deepEqual([bad.status, bad.json.error.message], [400, "invalid input"]);
});

test("models: list and retrieve", async () => {
  const ids = [];
  for await (const m of openai.models.list()) ids.push(m.id);
  assert.deepEqual(ids.sort(), ["bert:latest", "stories:latest"]);
  const m = await openai.models.retrieve("stories");
  assert.deepEqual({ id: m.id, object: m.object, owned_by: m.owned_by }, { id: "stories", object: "model", owned_by: "library" });
  await assert.rejects(openai.models.retrieve("nope"), (e: InstanceType<typeof OpenAI.APIError>) => e.status === 404);
});

test("tools: a forced call comes back as tool_calls with JSON-string arguments; tool results render back", async () => {
  await createFromGguf(srv.url, "tooly", STORIES, { template: JSON_CALLS });
  const res = await openai.chat.completions.create({
    model: "tooly",
    temperature: 0,
    tools: [weather as OpenAI.Chat.Completions.ChatCompletionTool],
    response_format: { type: "json_schema", json_schema: { name: "call", schema: callSchema } },
    messages: [{ role: "user", content: "Weather?" }],
  });
  const choice = res.choices[0]!;
  assert.equal(choice.finish_reason, "tool_calls");
  const call = choice.message.tool_calls![0]! as { id: string; type: string; function: { name: string; arguments: string } };
  assert.equal(call.type, "function");
  assert.match(call.id, /^call_[a-z0-9]{8}$/);
  assert.equal(call.function.name, "get_weather");
  assert.ok(["Paris", "Rome"].includes(JSON.parse(call.function.arguments).city));

  let streamed: string | undefined;
  let finish;
  for await (const chunk of await openai.chat.completions.create({
    model: "tooly", temperature: 0, stream: true, tools: [weather as OpenAI.Chat.Completions.ChatCompletionTool],
    response_format: { type: "json_schema", json_schema: { name: "call", schema: callSchema } },
    messages: [{ role: "user", content: "Weather?" }],
  })) {
    const tc = chunk.choices[0]?.delta.tool_calls?.[0];
    if (tc) streamed = tc.function?.name;
    finish = chunk.choices[0]?.finish_reason ?? finish;
  }
  assert.equal(streamed, "get_weather");
  assert.equal(finish, "tool_calls");

  // The assistant's call and the tool's answer (named from the call id) render through the template.
  const render = await postJson(srv.url, "/v1/chat/completions", {
    model: "tooly",
    _debug_render_only: true,
    messages: [
      { role: "user", content: "Weather in Paris?" },
      { role: "assistant", content: null, tool_calls: [{ id: "call_1", type: "function", function: { name: "get_weather", arguments: '{"city":"Paris"}' } }] },
      { role: "tool", tool_call_id: "call_1", content: "sunny" },
    ],
  });
  assert.equal(render.status, 200, render.text);
  assert.equal(
    render.json._debug_info.rendered_template,
    'U: Weather in Paris?\nA: {"name": "get_weather", "parameters": {"city":"Paris"}}\nT(get_weather): sunny\nA:',
  );
  const bad = await postJson(srv.url, "/v1/chat/completions", {
    model: "tooly",
    messages: [{ role: "assistant", content: null, tool_calls: [{ id: "c", type: "function", function: { name: "f", arguments: "{not json" } }] }],
  });
  assert.deepEqual([bad.status, bad.json.error.message], [400, "invalid tool call arguments"]);
});

test("reasoning: thinking text comes back as `reasoning`, in chunks of its own when streaming", async () => {
  // Thinking tags "time" and "Lily": the greedy story splits into thinking and content (see thinking.test.ts).
  await createFromGguf(srv.url, "thinker", STORIES, { template: "{{ range .Messages }}{{ if .Thinking }}time{{ .Thinking }}Lily{{ end }}{{ .Content }}{{ end }}" });
  const res = await openai.chat.completions.create({ model: "thinker", messages: story, temperature: 0, max_tokens: 24 });
  const msg = res.choices[0]!.message as { content: string; reasoning?: string };
  assert.equal(msg.reasoning, ", there was a little girl named ");
  assert.ok(msg.content.startsWith(". She loved"), msg.content);
  let reasoning = "";
  let content = "";
  for await (const chunk of await openai.chat.completions.create({ model: "thinker", messages: story, temperature: 0, max_tokens: 24, stream: true })) {
    const delta = chunk.choices[0]?.delta as { content?: string; reasoning?: string } | undefined;
    assert.ok(!(delta?.reasoning && delta.content), "reasoning and content never share a chunk");
    reasoning += delta?.reasoning ?? "";
    content += delta?.content ?? "";
  }
  assert.equal(reasoning, msg.reasoning);
  assert.equal(content, msg.content);
  const off = await openai.chat.completions.create({ model: "stories", messages: story, max_tokens: 2, reasoning_effort: "none" });
  assert.equal(off.choices.length, 1);
});
