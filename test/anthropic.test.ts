// The Anthropic-compatible Messages API driven by the official `@anthropic-ai/sdk`, unchanged.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import Anthropic from "@anthropic-ai/sdk";
import { createFromGguf, postJson, startTestServer, STORIES, type TestServer } from "./support/server.js";

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
