// The official `ollama` npm client, unchanged, against corral: the contract real programs rely on.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { Ollama } from "ollama";
import { STORIES, startTestServer, uploadBlob, type TestServer } from "./support/server.js";

let srv: TestServer;
let ollama: Ollama;
let digest: string;
before(async () => {
  srv = await startTestServer();
  ollama = new Ollama({ host: srv.url });
  digest = await uploadBlob(srv.url, STORIES);
});
after(() => srv.stop());

test("create (non-streaming and streaming) and list", async () => {
  const done = (await ollama.create({ model: "stories", files: { "stories260K.gguf": digest } } as never)) as unknown as { status: string };
  assert.equal(done.status, "success");
  const statuses: string[] = [];
  for await (const p of await ollama.create({ model: "stories2", files: { "stories260K.gguf": digest }, system: "hi", stream: true } as never)) {
    statuses.push(p.status);
  }
  assert.equal(statuses.at(-1), "success");
  const { models } = await ollama.list();
  assert.deepEqual(models.map((m) => m.name).sort(), ["stories2:latest", "stories:latest"]);
  assert.equal(models[0]!.details.family, "llama");
});

test("generate, streaming and not", async () => {
  const res = await ollama.generate({ model: "stories", prompt: "Once upon a time", options: { temperature: 0, num_predict: 20 } });
  assert.ok(String(res.response).startsWith(", there was a little girl named Lily"), res.response);
  assert.equal(res.done, true);
  assert.equal(res.eval_count, 20);
  let text = "";
  let last;
  for await (const part of await ollama.generate({ model: "stories", prompt: "Once upon a time", stream: true, options: { temperature: 0, num_predict: 20 } })) {
    text += part.response;
    last = part;
  }
  assert.equal(text, res.response);
  assert.equal(last?.done_reason, "length");
});

test("chat, streaming and not", async () => {
  const messages = [{ role: "user", content: "Once upon a time" }];
  const res = await ollama.chat({ model: "stories", messages, options: { temperature: 0, num_predict: 10 } });
  assert.equal(res.message.role, "assistant");
  assert.ok(res.message.content.startsWith(", there was"), res.message.content);
  let text = "";
  for await (const part of await ollama.chat({ model: "stories", messages, stream: true, options: { temperature: 0, num_predict: 10 } })) {
    text += part.message.content;
  }
  assert.equal(text, res.message.content);
});

test("show, copy, ps, delete, version", async () => {
  const show = await ollama.show({ model: "stories" });
  assert.equal(show.details.format, "gguf");
  assert.equal(show.template, "{{ .Prompt }}");
  assert.equal((show.model_info as unknown as Record<string, unknown>)["general.architecture"], "llama");
  await ollama.copy({ source: "stories", destination: "stories-copy" });
  assert.ok((await ollama.list()).models.some((m) => m.name === "stories-copy:latest"));
  const running = await ollama.ps();
  assert.equal(running.models[0]?.name, "stories:latest");
  await ollama.delete({ model: "stories-copy" });
  assert.ok(!(await ollama.list()).models.some((m) => m.name === "stories-copy:latest"));
  assert.match((await ollama.version()).version, /^\d+\.\d+\.\d+/);
});

test("errors surface as the client's ResponseError with Ollama's message and status", async () => {
  await assert.rejects(ollama.generate({ model: "missing", prompt: "x" }), (e: Error & { status_code?: number }) => {
    assert.equal(e.message, "model 'missing' not found");
    assert.equal(e.status_code, 404);
    return true;
  });
  await assert.rejects(ollama.show({ model: "../bad" }), /invalid model name/);
});
