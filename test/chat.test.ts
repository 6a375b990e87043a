// /api/chat: the default template, a GGUF that carries its own Jinja chat template, history,
// format, load/unload, and errors.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GgufValueType } from "../src/gguf/types.js";
import { rewriteGguf } from "./support/gguf.js";
import { createFromGguf, ndjson, post, postJson, startTestServer, STORIES, type TestServer } from "./support/server.js";

// A small Jinja template in the style of real GGUF chat templates (bos_token, roles, generation prompt).
const JINJA =
  "{{ bos_token }}{% for m in messages %}{% if m.role == 'system' %}[SYS]{{ m.content }}[/SYS]" +
  "{% elif m.role == 'user' %}[USER]{{ m.content }}{% else %}[BOT]{{ m.content }}{{ eos_token }}{% endif %}{% endfor %}" +
  "{% if add_generation_prompt %}[BOT]{% endif %}";

let srv: TestServer;
before(async () => {
  srv = await startTestServer();
  await createFromGguf(srv.url, "stories", STORIES);
  const dir = await mkdtemp(join(tmpdir(), "corral-chat-"));
  const withTemplate = join(dir, "stories-chat.gguf");
  await rewriteGguf(STORIES, withTemplate, (md) => {
    md.set("tokenizer.chat_template", { type: GgufValueType.STRING, value: JINJA });
  });
  await createFromGguf(srv.url, "stories-chat", withTemplate);
});
after(() => srv.stop());

const render = async (body: Record<string, unknown>) => {
  const res = await postJson(srv.url, "/api/chat", { stream: false, _debug_render_only: true, ...body });
  assert.equal(res.status, 200, res.text);
  return res.json._debug_info.rendered_template as string;
};

test("the default {{ .Prompt }} template joins user and assistant turns and drops system text", async () => {
  const text = await render({
    model: "stories",
    messages: [
      { role: "system", content: "be nice" },
      { role: "user", content: "Once upon a time" },
      { role: "assistant", content: ", there was a dog." },
      { role: "user", content: " The dog" },
      { role: "user", content: "ran." },
    ],
  });
  // Consecutive user messages merge with a blank line, as Ollama collates them.
  assert.equal(text, "Once upon a time, there was a dog. The dog\n\nran.");
});

test("a GGUF's own Jinja chat template renders the conversation; BOS is added once by the runner", async () => {
  const messages = [
    { role: "system", content: "Tell stories." },
    { role: "user", content: "Hi" },
    { role: "assistant", content: "Hello" },
    { role: "user", content: "Once upon a time" },
  ];
  assert.equal(await render({ model: "stories-chat", messages }), "[SYS]Tell stories.[/SYS][USER]Hi[BOT]Hello</s>[USER]Once upon a time[BOT]");
  const res = await postJson(srv.url, "/api/chat", { model: "stories-chat", messages, stream: false, options: { temperature: 0, num_predict: 8 } });
  assert.equal(res.status, 200);
  assert.equal(res.json.message.role, "assistant");
  assert.ok(res.json.message.content.length > 0);
  assert.equal(res.json.eval_count, 8);
  // </s> in the rendered text is parsed as the EOS special token, not spelled out as text.
  const plain = await postJson(srv.url, "/api/generate", {
    model: "stories", raw: true, prompt: "[SYS]Tell stories.[/SYS][USER]Hi[BOT]Hello</s>[USER]Once upon a time[BOT]", stream: false,
    options: { temperature: 0, num_predict: 8 },
  });
  assert.equal(res.json.prompt_eval_count, plain.json.prompt_eval_count);
  assert.equal(res.json.message.content, plain.json.response);

  const show = await postJson(srv.url, "/api/show", { model: "stories-chat" });
  assert.equal(show.json.template, JINJA);
  assert.match(show.json.modelfile, /\nTEMPLATE \{\{ \.Prompt \}\}\n/);
});

test("chat streams assistant message deltas and ends with stats", async () => {
  const res = await post(srv.url, "/api/chat", {
    model: "stories", messages: [{ role: "user", content: "Once upon a time" }], options: { temperature: 0, num_predict: 12 },
  });
  const lines = await ndjson(res);
  const last = lines.at(-1);
  assert.deepEqual(last.message, { role: "assistant", content: "" });
  assert.equal(last.done, true);
  assert.equal(last.done_reason, "length");
  assert.equal(last.eval_count, 12);
  assert.equal("context" in last, false);
  const content = lines.slice(0, -1).map((l) => l.message.content).join("");
  assert.ok(content.startsWith(", there was a little girl named Lily"), content);
});

test("chat with a JSON schema format returns matching JSON", async () => {
  const res = await postJson(srv.url, "/api/chat", {
    model: "stories-chat",
    messages: [{ role: "user", content: "Who?" }],
    format: { type: "object", properties: { name: { type: "string", enum: ["Lily", "Tom"] } }, required: ["name"] },
    stream: false,
    options: { temperature: 0 },
  });
  assert.equal(res.status, 200);
  assert.ok(["Lily", "Tom"].includes(JSON.parse(res.json.message.content).name), res.json.message.content);
  assert.equal(res.json.done_reason, "stop");
});

test("empty messages load the model; with keep_alive 0 they unload it", async () => {
  const load = await postJson(srv.url, "/api/chat", { model: "stories", messages: [] });
  assert.equal(load.headers.get("content-type"), "application/json; charset=utf-8");
  assert.deepEqual({ ...load.json, created_at: undefined }, {
    model: "stories", created_at: undefined, message: { role: "assistant", content: "" }, done: true, done_reason: "load",
  });
  let ps = await postJson(srv.url, "/api/ps", undefined, "GET");
  assert.ok(ps.json.models.some((m: { name: string }) => m.name === "stories:latest"));
  const unload = await postJson(srv.url, "/api/chat", { model: "stories", keep_alive: 0 });
  assert.equal(unload.json.done_reason, "unload");
  ps = await postJson(srv.url, "/api/ps", undefined, "GET");
  assert.equal(ps.json.models.some((m: { name: string }) => m.name === "stories:latest"), false);
});

test("chat errors follow Ollama's table", async () => {
  const cases: [Record<string, unknown>, number, string][] = [
    [{ messages: [{ role: "user", content: "x" }] }, 400, "model is required"],
    [{ model: "nope", messages: [] }, 404, "model 'nope' not found"],
    [{ model: "../x", messages: [] }, 400, "invalid model name"],
    [
      { model: "stories", messages: [{ role: "user", content: "x" }], tools: [{ type: "function", function: { name: "f" } }] },
      400,
      "registry.ollama.ai/library/stories:latest does not support tools",
    ],
    [{ model: "stories", messages: [{ role: "user", content: 7 }] }, 400, "json: cannot unmarshal number into Go struct field ChatRequest.messages.content of type string"],
  ];
  for (const [body, status, error] of cases) {
    const res = await postJson(srv.url, "/api/chat", body);
    assert.deepEqual([res.status, res.json], [status, { error }], JSON.stringify(body));
  }
});
