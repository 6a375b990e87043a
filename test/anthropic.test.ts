// The Anthropic-compatible Messages API driven by the official `@anthropic-ai/sdk`, unchanged.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import Anthropic from "@anthropic-ai/sdk";
import { toMessage, toMessageEvents, toNativeChat } from "../src/server/anthropic/messages.js";
import { createFromGguf, postJson, startTestServer, STORIES, type TestServer } from "./support/server.js";
import { JSON_CALLS } from "./support/tools.js";

let srv: TestServer;
let anthropic: Anthropic;
// The SDK's types no longer list `temperature`; the API (and corral) still take it.
const greedy: object = { temperature: 0 };
before(async () => {
  srv = await startTestServer();
  anthropic = new Anthropic({ baseURL: srv.url, apiKey: "corral", maxRetries: 0 });
  await createFromGguf(srv.url, "stories", STORIES, { template: "{{ .System }}{{ .Prompt }}" });
});
after(() => srv.stop());

test("a message, non-streaming: text block, stop reason, usage", async () => {
  const msg = await anthropic.messages.create({
    model: "stories", max_tokens: 10, ...greedy, messages: [{ role: "user", content: "Once upon a time" }],
  });
  assert.equal(msg.type, "message");
  assert.equal(msg.role, "assistant");
  assert.match(msg.id, /^msg_[0-9a-f]{24}$/);
  assert.equal(msg.model, "stories");
  assert.equal(msg.content.length, 1);
  const block = msg.content[0]!;
  assert.equal(block.type, "text");
  assert.ok((block as { text: string }).text.startsWith(", there was a little girl"), JSON.stringify(block));
  assert.equal(msg.stop_reason, "max_tokens");
  assert.deepEqual(msg.usage, { input_tokens: 5, output_tokens: 10 });
});

test("system text and stop sequences map onto the native request", async () => {
  const msg = await anthropic.messages.create({
    model: "stories",
    max_tokens: 40,
    ...greedy,
    system: [{ type: "text", text: "Once upon" }],
    stop_sequences: ["Lily"],
    messages: [{ role: "user", content: [{ type: "text", text: " a time" }] }],
  });
  assert.equal((msg.content[0] as { text: string }).text, ", there was a little girl named ");
  assert.equal(msg.stop_reason, "end_turn");
});

test("streaming: message_start, one text block of deltas, message_delta, message_stop", async () => {
  const events: string[] = [];
  let text = "";
  const stream = anthropic.messages.stream({
    model: "stories", max_tokens: 12, ...greedy, messages: [{ role: "user", content: "Once upon a time" }],
  });
  for await (const ev of stream) {
    events.push(ev.type);
    if (ev.type === "content_block_delta" && ev.delta.type === "text_delta") text += ev.delta.text;
  }
  const final = await stream.finalMessage();
  assert.equal(events[0], "message_start");
  assert.equal(events[1], "content_block_start");
  assert.deepEqual(events.slice(-3), ["content_block_stop", "message_delta", "message_stop"]);
  assert.equal((final.content[0] as { text: string }).text, text);
  assert.equal(final.stop_reason, "max_tokens");
  assert.equal(final.usage.output_tokens, 12);
});

test("thinking asked of a model that cannot think is dropped, not refused", async () => {
  const msg = await anthropic.messages.create({
    model: "stories", max_tokens: 4, thinking: { type: "enabled", budget_tokens: 1024 }, messages: [{ role: "user", content: "Hi" }],
  });
  assert.equal(msg.stop_reason, "max_tokens");
});

test("errors take Anthropic's shape", async () => {
  await assert.rejects(
    anthropic.messages.create({ model: "missing", max_tokens: 5, messages: [{ role: "user", content: "x" }] }),
    (e: InstanceType<typeof Anthropic.APIError>) => {
      assert.ok(e instanceof Anthropic.NotFoundError);
      return true;
    },
  );
  const noTokens = await postJson(srv.url, "/v1/messages", { model: "stories", messages: [{ role: "user", content: "x" }] });
  assert.equal(noTokens.status, 400);
  assert.equal(noTokens.json.type, "error");
  assert.deepEqual(noTokens.json.error, { type: "invalid_request_error", message: "max_tokens is required and must be positive" });
  assert.match(noTokens.json.request_id, /^req_/);
  const url = await postJson(srv.url, "/v1/messages", {
    model: "stories", max_tokens: 5, messages: [{ role: "user", content: [{ type: "image", source: { type: "url", url: "https://x" } }] }],
  });
  assert.deepEqual([url.status, url.json.error.message], [400, "invalid image source type: url. Only base64 images are supported."]);
});

test("tool_use and tool_result blocks translate to native tool calls and tool messages", () => {
  const req = toNativeChat({
    model: "m",
    max_tokens: 5,
    system: "sys",
    tools: [{ name: "get_weather", description: "Weather", input_schema: { type: "object", properties: { city: { type: "string" } } } }],
    messages: [
      { role: "user", content: "Weather in Paris?" },
      { role: "assistant", content: [{ type: "text", text: "Checking." }, { type: "tool_use", id: "toolu_1", name: "get_weather", input: { city: "Paris" } }] },
      { role: "user", content: [{ type: "tool_result", tool_use_id: "toolu_1", content: "sunny" }, { type: "text", text: "Thanks" }] },
    ],
  });
  assert.deepEqual(req.messages, [
    { role: "system", content: "sys" },
    { role: "user", content: "Weather in Paris?" },
    { role: "assistant", content: "Checking.", tool_calls: [{ id: "toolu_1", function: { index: 0, name: "get_weather", arguments: { city: "Paris" } } }] },
    { role: "tool", content: "sunny", tool_call_id: "toolu_1", tool_name: "get_weather" },
    { role: "user", content: "Thanks" },
  ]);
  assert.deepEqual(req.tools, [
    { type: "function", function: { name: "get_weather", description: "Weather", parameters: { type: "object", properties: { city: { type: "string" } } } } },
  ]);
  assert.equal((req.options as { num_predict: number }).num_predict, 5);
});

test("a native answer with a tool call becomes a tool_use block and stop_reason tool_use, streaming too", async () => {
  const native = {
    model: "m", created_at: new Date().toISOString(), done: true, done_reason: "stop" as const, prompt_eval_count: 7, eval_count: 3,
    message: { role: "assistant", content: "", tool_calls: [{ id: "call_abc", function: { index: 0, name: "get_weather", arguments: { city: "Rome" } } }] },
  };
  const msg = toMessage(native, "msg_x", "m");
  assert.deepEqual(msg.content, [{ type: "tool_use", id: "call_abc", name: "get_weather", input: { city: "Rome" } }]);
  assert.equal(msg.stop_reason, "tool_use");
  const events = [];
  for await (const e of toMessageEvents((async function* () { yield native; })(), "msg_x", "m")) events.push(e);
  assert.deepEqual(events.map((e) => e.event), [
    "message_start", "content_block_start", "content_block_delta", "content_block_stop", "message_delta", "message_stop",
  ]);
  assert.deepEqual(events[2]!.data.delta, { type: "input_json_delta", partial_json: '{"city":"Rome"}' });
  assert.deepEqual((events[4]!.data.delta as { stop_reason: string }).stop_reason, "tool_use");
});

test("tools and a tool result over HTTP reach a model whose template renders them", async () => {
  await createFromGguf(srv.url, "tooly", STORIES, { template: JSON_CALLS });
  const msg = await anthropic.messages.create({
    model: "tooly",
    max_tokens: 3,
    tools: [{ name: "get_weather", description: "Weather", input_schema: { type: "object", properties: { city: { type: "string" } } } }],
    messages: [
      { role: "user", content: "Weather in Paris?" },
      { role: "assistant", content: [{ type: "tool_use", id: "toolu_1", name: "get_weather", input: { city: "Paris" } }] },
      { role: "user", content: [{ type: "tool_result", tool_use_id: "toolu_1", content: "sunny" }] },
    ],
  });
  assert.equal(msg.stop_reason, "max_tokens");
  await assert.rejects(
    anthropic.messages.create({
      model: "stories", max_tokens: 3, tools: [{ name: "f", input_schema: { type: "object" } }], messages: [{ role: "user", content: "x" }],
    }),
    /does not support tools/,
  );
});

test("thinking comes back as a thinking block before the text, streaming as thinking_delta", async () => {
  await createFromGguf(srv.url, "thinker", STORIES, { template: "{{ range .Messages }}{{ if .Thinking }}time{{ .Thinking }}Lily{{ end }}{{ .Content }}{{ end }}" });
  const req = { model: "thinker", max_tokens: 24, ...greedy, thinking: { type: "enabled" as const, budget_tokens: 1024 }, messages: [{ role: "user" as const, content: "Once upon a time" }] };
  const msg = await anthropic.messages.create(req);
  assert.deepEqual(msg.content.map((b) => b.type), ["thinking", "text"]);
  assert.equal((msg.content[0] as { thinking: string }).thinking, ", there was a little girl named ");
  const kinds = new Set<string>();
  for await (const ev of anthropic.messages.stream(req)) if (ev.type === "content_block_delta") kinds.add(ev.delta.type);
  assert.deepEqual([...kinds], ["thinking_delta", "text_delta"]);
});
