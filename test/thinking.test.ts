// Thinking over HTTP with the real stories260K model. Its greedy story is ", there was a little girl
// named Lily. She loved ...", so a template whose thinking tags are "time" (the prompt's last word,
// which pre-opens the block) and "Lily" splits real generated text into thinking and content.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { GgufValueType } from "../src/gguf/types.js";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { rewriteGguf } from "./support/gguf.js";
import { createFromGguf, ndjson, post, postJson, startTestServer, STORIES, type TestServer } from "./support/server.js";

const TIME_LILY = "{{ range .Messages }}{{ if .Thinking }}time{{ .Thinking }}Lily{{ end }}{{ .Content }}{{ end }}";
const FLAGS = "{{ range .Messages }}{{ if .Thinking }}<think>{{ .Thinking }}</think>{{ end }}{{ .Content }}{{ end }}|{{ .Think }}|{{ .ThinkLevel }}|{{ .IsThinkSet }}";
const JINJA =
  "{% for m in messages %}{{ m.content }}{% endfor %}{% if enable_thinking is defined and not enable_thinking %}<think></think>{% endif %}";

let srv: TestServer;
before(async () => {
  srv = await startTestServer();
  await createFromGguf(srv.url, "stories", STORIES);
  await createFromGguf(srv.url, "thinker", STORIES, { template: TIME_LILY });
  await createFromGguf(srv.url, "flags", STORIES, { template: FLAGS });
  const dir = await mkdtemp(join(tmpdir(), "corral-think-"));
  const jinja = join(dir, "jinja-think.gguf");
  await rewriteGguf(STORIES, jinja, (md) => md.set("tokenizer.chat_template", { type: GgufValueType.STRING, value: JINJA }));
  await createFromGguf(srv.url, "jinja-thinker", jinja);
});
after(() => srv.stop());

const story = { temperature: 0, num_predict: 24 };
const ask = { role: "user", content: "Once upon a time" };

test("templates with thinking tags get the thinking capability", async () => {
  for (const [model, caps] of [["thinker", ["completion", "thinking"]], ["flags", ["completion", "thinking"]], ["jinja-thinker", ["thinking", "completion"]], ["stories", ["completion"]]] as const) {
    const show = await postJson(srv.url, "/api/show", { model });
    assert.deepEqual(show.json.capabilities, caps, model);
  }
});

test("think values reach the template: absent means true (level medium), false, and levels", async () => {
  const render = async (extra: Record<string, unknown>) =>
    (await postJson(srv.url, "/api/chat", { model: "flags", stream: false, _debug_render_only: true, messages: [{ role: "user", content: "q" }], ...extra })).json._debug_info.rendered_template;
  assert.equal(await render({}), "q|true|medium|true");
  assert.equal(await render({ think: false }), "q|false||true");
  assert.equal(await render({ think: "high" }), "q|true|high|true");
  assert.equal(await render({ think: true }), "q|true|medium|true");
  // Jinja templates get enable_thinking.
  const j = await postJson(srv.url, "/api/chat", { model: "jinja-thinker", stream: false, _debug_render_only: true, think: false, messages: [{ role: "user", content: "q" }] });
  assert.equal(j.json._debug_info.rendered_template, "q<think></think>");
  const bad = await postJson(srv.url, "/api/chat", { model: "stories", think: "low", messages: [{ role: "user", content: "q" }] });
  assert.deepEqual([bad.status, bad.json], [400, { error: '"stories" does not support thinking' }]);
});

test("chat: generated thinking goes to message.thinking and the rest to content (non-streaming)", async () => {
  const res = await postJson(srv.url, "/api/chat", { model: "thinker", stream: false, messages: [ask], options: story });
  assert.equal(res.status, 200, res.text);
  assert.equal(res.json.message.thinking, ", there was a little girl named ");
  assert.ok(res.json.message.content.startsWith(". She loved to play"), res.json.message.content);
  assert.equal(res.json.eval_count, 24);
});

test("chat streaming: thinking chunks first, then content chunks, adding up to the same split", async () => {
  const lines = await ndjson(await post(srv.url, "/api/chat", { model: "thinker", messages: [ask], options: story }));
  const firstContent = lines.findIndex((l) => l.message.content);
  const lastThinking = lines.map((l) => Boolean(l.message.thinking)).lastIndexOf(true);
  assert.ok(lastThinking >= 0 && firstContent > lastThinking, JSON.stringify(lines.map((l) => l.message)));
  for (const l of lines.slice(0, -1)) assert.ok(l.message.content || l.message.thinking, "no empty chunks while buffering");
  assert.equal(lines.map((l) => l.message.thinking ?? "").join(""), ", there was a little girl named ");
  assert.ok(lines.map((l) => l.message.content).join("").startsWith(". She loved to play"));
});

test("think:false leaves the output alone", async () => {
  const res = await postJson(srv.url, "/api/chat", { model: "thinker", stream: false, think: false, messages: [ask], options: story });
  assert.equal(res.json.message.thinking, undefined);
  assert.ok(res.json.message.content.startsWith(", there was a little girl named Lily. She"), res.json.message.content);
});

test("generate splits thinking into `thinking` the same way", async () => {
  const res = await postJson(srv.url, "/api/generate", { model: "thinker", stream: false, prompt: "Once upon a time", options: story });
  assert.equal(res.json.thinking, ", there was a little girl named ");
  assert.ok(res.json.response.startsWith(". She loved to play"), res.json.response);
  const keys = Object.keys(res.json);
  assert.deepEqual(keys.slice(0, 5), ["model", "created_at", "response", "thinking", "done"]);
  const lines = await ndjson(await post(srv.url, "/api/generate", { model: "thinker", prompt: "Once upon a time", options: story }));
  assert.equal(lines.map((l) => l.thinking ?? "").join(""), ", there was a little girl named ");
});

const who = { type: "object", properties: { name: { type: "string", enum: ["Lily", "Tom"] } }, required: ["name"] };

test("chat format on a thinking model: thinking runs free, the grammar shapes only the content after it", async () => {
  const res = await postJson(srv.url, "/api/chat", { model: "thinker", stream: false, format: who, messages: [ask], options: story });
  assert.equal(res.status, 200, res.text);
  assert.equal(res.json.message.thinking, ", there was a little girl named ");
  assert.ok(["Lily", "Tom"].includes(JSON.parse(res.json.message.content).name), res.json.message.content);
  assert.equal(res.json.done_reason, "stop");
  assert.ok(res.json.eval_count > 0);
});

test("chat format after thinking, streamed: thinking chunks, then only the constrained content", async () => {
  const lines = await ndjson(await post(srv.url, "/api/chat", { model: "thinker", format: "json", messages: [ask], options: { ...story, num_predict: 12 } }));
  assert.equal(lines.at(-1).done, true);
  assert.equal(lines.map((l) => l.message.thinking ?? "").join(""), ", there was a little girl named ");
  const content = lines.map((l) => l.message.content).join("");
  assert.ok(!content.includes("She loved"), "the unconstrained content of the first pass is dropped");
  assert.match(content.trimStart(), /^[{["\d-tfn]/, content);
  const firstContent = lines.findIndex((l) => l.message.content);
  const lastThinking = lines.map((l) => Boolean(l.message.thinking)).lastIndexOf(true);
  assert.ok(firstContent > lastThinking, JSON.stringify(lines.map((l) => l.message)));
});

test("chat format with think:false constrains from the first token", async () => {
  const res = await postJson(srv.url, "/api/chat", { model: "thinker", stream: false, think: false, format: who, messages: [ask], options: story });
  assert.equal(res.status, 200, res.text);
  assert.equal(res.json.message.thinking, undefined);
  assert.ok(["Lily", "Tom"].includes(JSON.parse(res.json.message.content).name), res.json.message.content);
});
