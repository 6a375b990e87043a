// The prompt layer inside the server: suffix (template and engine fill-in-the-middle), history
// truncation at num_ctx, model SYSTEM and MESSAGE history, special tokens of a real tokenizer,
// Jinja templates with tools, and template errors at create and request time.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildRandomLlama } from "../bench/random-model.js";
import { GgufValueType } from "../src/gguf/types.js";
import { rewriteGguf } from "./support/gguf.js";
import { createFromGguf, postJson, SHARED, startTestServer, STORIES, type TestServer } from "./support/server.js";

const VOCAB = join(SHARED, "models/vocab");
const tiny = { dim: 64, layers: 1, heads: 2, kvHeads: 2, ffn: 128, contextLength: 512, weightType: "F32" as const, seed: 7 };
const JINJA_TOOLS =
  "{% if tools %}TOOLS:{% for t in tools %}{{ t.function.name }};{% endfor %}\n{% endif %}" +
  "{% for m in messages %}{% if m.role == 'tool' %}[{{ m.name }}]{{ m.content }}{% elif m.tool_calls %}CALL {{ m.tool_calls[0].function.name }}{% else %}{{ m.role }}: {{ m.content }}{% endif %}\n{% endfor %}assistant:";

let srv: TestServer;
before(async () => {
  srv = await startTestServer();
  const dir = await mkdtemp(join(tmpdir(), "corral-prompt-"));
  await createFromGguf(srv.url, "stories", STORIES);
  await createFromGguf(srv.url, "infill-tpl", STORIES, { template: "<PRE> {{ .Prompt }} <SUF>{{ .Suffix }} <MID>" });
  await createFromGguf(srv.url, "chat-tpl", STORIES, {
    template: "{{ range .Messages }}[{{ .Role }}] {{ .Content }}\n{{ end }}",
    system: "Model system.",
    messages: [{ role: "user", content: "Stored question" }, { role: "assistant", content: "Stored answer" }],
  });
  const fim = join(dir, "starcoder-random.gguf");
  await buildRandomLlama(fim, { ...tiny, vocabFile: join(VOCAB, "ggml-vocab-starcoder.gguf") });
  await createFromGguf(srv.url, "fim", fim);
  const phi = join(dir, "phi3-random.gguf");
  await buildRandomLlama(phi, { ...tiny, vocabFile: join(VOCAB, "ggml-vocab-phi-3.gguf") });
  await createFromGguf(srv.url, "phi", phi, { template: "{{ range .Messages }}<|{{ .Role }}|>\n{{ .Content }}<|end|>\n{{ end }}<|assistant|>\n" });
  const jinja = join(dir, "jinja-tools.gguf");
  await rewriteGguf(STORIES, jinja, (md) => md.set("tokenizer.chat_template", { type: GgufValueType.STRING, value: JINJA_TOOLS }));
  await createFromGguf(srv.url, "jinja-tools", jinja);
});
after(() => srv.stop());

const render = async (path: string, body: Record<string, unknown>) => {
  const res = await postJson(srv.url, path, { stream: false, _debug_render_only: true, ...body });
  assert.equal(res.status, 200, res.text);
  return res.json._debug_info.rendered_template as string;
};

test("suffix through a template that uses .Suffix", async () => {
  assert.deepEqual((await postJson(srv.url, "/api/show", { model: "infill-tpl" })).json.capabilities, ["completion", "insert"]);
  assert.equal(await render("/api/generate", { model: "infill-tpl", prompt: "def f():", suffix: "return x" }), "<PRE> def f(): <SUF>return x <MID>");
  const res = await postJson(srv.url, "/api/generate", { model: "infill-tpl", prompt: "Once", suffix: "end", stream: false, options: { temperature: 0, num_predict: 4 } });
  assert.equal(res.status, 200, res.text);
  assert.equal(res.json.eval_count, 4);
});

test("suffix through the engine's fill-in-the-middle tokens (random weights, StarCoder vocabulary)", async () => {
  const show = await postJson(srv.url, "/api/show", { model: "fim" });
  assert.deepEqual(show.json.capabilities, ["completion", "insert"]);
  assert.equal(await render("/api/generate", { model: "fim", prompt: "def add(a, b):\n", suffix: "\n    return c" }), "<fim_prefix>def add(a, b):\n<fim_suffix>\n    return c<fim_middle>");
  const res = await postJson(srv.url, "/api/generate", {
    model: "fim", prompt: "def add(a, b):\n", suffix: "\n    return c", stream: false, options: { temperature: 0, num_predict: 5 },
  });
  assert.equal(res.status, 200, res.text);
  assert.equal(res.json.eval_count, 5);
  // prefix + suffix + the three FIM tokens were evaluated.
  assert.ok(res.json.prompt_eval_count >= 8, String(res.json.prompt_eval_count));
  // A model with neither: 400 (stories, see generate.test.ts); and no suffix means ordinary generation.
  const plain = await postJson(srv.url, "/api/generate", { model: "fim", prompt: "x = 1", stream: false, options: { num_predict: 2 } });
  assert.equal(plain.status, 200);
});

test("model SYSTEM and MESSAGE history come first; a request system message replaces the model's", async () => {
  const msgs = [{ role: "user", content: "Hi" }];
  assert.equal(await render("/api/chat", { model: "chat-tpl", messages: msgs }), "[system] Model system.\n[user] Stored question\n[assistant] Stored answer\n[user] Hi\n");
  assert.equal(
    await render("/api/chat", { model: "chat-tpl", messages: [{ role: "system", content: "Mine." }, ...msgs] }),
    "[user] Stored question\n[assistant] Stored answer\n[system] Mine.\n[user] Hi\n",
  );
  // generate: the request system wins over the model's; history only without `context`.
  assert.equal(await render("/api/generate", { model: "chat-tpl", prompt: "Go", system: "Req." }), "[system] Req.\n[user] Stored question\n[assistant] Stored answer\n[user] Go\n");
});

test("long histories are cut from the front to fit num_ctx, keeping system messages and the last message", async () => {
  const turn = (i: number) => [
    { role: "user", content: `Question number ${i} is about a little dog who ran in the park all day long.` },
    { role: "assistant", content: `Answer number ${i}: the dog was happy and played with a red ball.` },
  ];
  const messages = [{ role: "system", content: "Sys." }, ...[1, 2, 3, 4, 5].flatMap(turn), { role: "user", content: "Last one?" }];
  const small = await render("/api/chat", { model: "chat-tpl", messages, options: { num_ctx: 128 } });
  assert.ok(small.startsWith("[system] Sys.\n"), small);
  assert.ok(small.endsWith("[user] Last one?\n"), small);
  assert.ok(!small.includes("Question number 1 "), small);
  assert.ok(small.includes("Answer number 5"), small);
  const tokens = await postJson(srv.url, "/api/chat", { model: "chat-tpl", messages, options: { num_ctx: 128, num_predict: 1 }, stream: false });
  assert.ok(tokens.json.prompt_eval_count <= 128, String(tokens.json.prompt_eval_count));
  // truncate:false keeps everything; a big enough context keeps everything too.
  const all = await render("/api/chat", { model: "chat-tpl", messages, truncate: false, options: { num_ctx: 128 } });
  assert.ok(all.includes("Question number 1 "));
  assert.equal(await render("/api/chat", { model: "chat-tpl", messages, options: { num_ctx: 2048 } }), all);
});

test("special tokens in a rendered prompt are single tokens of the real tokenizer (Phi-3 vocabulary)", async () => {
  const text = await render("/api/chat", { model: "phi", messages: [{ role: "user", content: "Hello there" }] });
  assert.equal(text, "<|user|>\nHello there<|end|>\n<|assistant|>\n");
  const count = async (prompt: string) =>
    (await postJson(srv.url, "/api/generate", { model: "phi", raw: true, prompt, stream: false, options: { num_predict: 1 } })).json.prompt_eval_count as number;
  // Each count on a freshly loaded model: a prompt prefix reused from the cache is not counted.
  const unload = () => postJson(srv.url, "/api/generate", { model: "phi", keep_alive: 0 });
  const raw = await count(text);
  await unload();
  const chat = await postJson(srv.url, "/api/chat", { model: "phi", messages: [{ role: "user", content: "Hello there" }], stream: false, options: { num_predict: 1 } });
  assert.equal(chat.json.prompt_eval_count, raw);
  await unload();
  // Spelled out as plain text, the three markers take several tokens each.
  assert.ok((await count(text.replaceAll("<|", "< |"))) >= chat.json.prompt_eval_count + 6);
});

test("Jinja chat templates get the tools, tool calls and tool results", async () => {
  assert.deepEqual((await postJson(srv.url, "/api/show", { model: "jinja-tools" })).json.capabilities, ["tools", "completion"]);
  const text = await render("/api/chat", {
    model: "jinja-tools",
    tools: [{ type: "function", function: { name: "get_time", parameters: { type: "object", properties: {} } } }],
    messages: [
      { role: "user", content: "Time?" },
      { role: "assistant", content: "", tool_calls: [{ function: { name: "get_time", arguments: {} } }] },
      { role: "tool", content: "noon", tool_name: "get_time" },
    ],
  });
  // Chat templates render with trim_blocks: the newline after a block tag goes.
  assert.equal(text, "TOOLS:get_time;user: Time?CALL get_time[get_time]noonassistant:");
});

test("template errors: 400 with Go's message at create, 500 when execution fails", async () => {
  const bad = await postJson(srv.url, "/api/create", { model: "broken", from: "stories", template: "{{ if .System }}x", stream: false });
  assert.deepEqual([bad.status, bad.json], [400, { error: "template error: template: :1: unexpected EOF" }]);
  const fn = await postJson(srv.url, "/api/create", { model: "broken", from: "stories", template: "{{ nope .Prompt }}", stream: false });
  assert.deepEqual([fn.status, fn.json], [400, { error: 'template error: template: :1: function "nope" not defined' }]);
  const exec = await postJson(srv.url, "/api/generate", { model: "stories", prompt: "x", template: "{{ .Prompt.Bad }}", stream: false });
  assert.equal(exec.status, 500);
  assert.match(exec.json.error, /^template: :1:3: executing "" at <\.Prompt\.Bad>: can't evaluate field Bad in type string$/);
});

test("format: a schema with required, enum, nested objects and arrays yields valid JSON in chat", async () => {
  const { Ajv } = await import("ajv");
  const schema = {
    type: "object",
    properties: {
      name: { type: "string", enum: ["Lily", "Tom", "Ben"] },
      age: { type: "integer" },
      pet: {
        type: "object",
        properties: { kind: { type: "string", enum: ["dog", "cat"] }, happy: { type: "boolean" } },
        required: ["kind", "happy"],
      },
      toys: { type: "array", items: { type: "string", enum: ["ball", "doll", "car"] }, maxItems: 3 },
    },
    required: ["name", "age", "pet", "toys"],
  };
  const validate = new Ajv().compile(schema);
  for (const seed of [1, 2]) {
    const res = await postJson(srv.url, "/api/chat", {
      model: "chat-tpl", stream: false, format: schema, messages: [{ role: "user", content: "Tell me about a child." }],
      options: { temperature: 0.7, seed, num_predict: 300 },
    });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.done_reason, "stop", res.json.message.content);
    const value = JSON.parse(res.json.message.content);
    assert.ok(validate(value), `${res.json.message.content} ${JSON.stringify(validate.errors)}`);
  }
});
