// Images end to end on llama-server: a random-weight text model with a real (tiny) projector, images
// made at test time, through every API family, the official clients and the CLI.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { copyFile, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { Ollama } from "ollama";
import sharp from "sharp";
import { normaliseImage } from "../src/server/services/images.js";
import { mediaPrompt } from "../src/runner/drivers/llama-server/media.js";
import { IMAGES_NEED_LLAMA_SERVER, NO_VISION_MESSAGE } from "../src/runner/protocol.js";
import { CLI, runCli } from "./support/cli.js";
import { startRegistry } from "./support/registry.js";
import { Terminal } from "./support/tmux.js";
import { config, ensureEngine } from "./support/engine.js";
import { createFromGguf, postJson, startTestServer, STORIES, uploadBlob, type TestServer } from "./support/server.js";
import { b64, BLUE, buildVisionLlama, createVisionModel, gif, GREEN, IMAGE_TOKENS, IMAGE_WRAP, jpeg, png, PROJECTOR, RED, webp } from "./support/vision.js";

const onLlamaServer = config.engine !== "node-llama-cpp";
let srv: TestServer;
let dir: string;
let modelPath: string;
const greedy = { temperature: 0, num_predict: 12, seed: 1 };
const images: Record<string, string> = {};

before(async () => {
  await ensureEngine();
  dir = await mkdtemp(join(tmpdir(), "corral-vision-test-"));
  modelPath = await buildVisionLlama(dir);
  srv = await startTestServer({ OLLAMA_NUM_PARALLEL: "2" });
  await createVisionModel(srv.url, "vis", modelPath);
  await createFromGguf(srv.url, "stories", STORIES);
  // For the CLI: EOS never wins on this model, so bound its answers.
  await postJson(srv.url, "/api/create", { model: "vis8", from: "vis", parameters: { num_predict: 8 }, stream: false });
  images.red = b64(await png(RED));
  images.blue = b64(await png(BLUE));
  images.redJpeg = b64(await jpeg(RED));
});
after(async () => {
  await srv?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** The image's embeddings plus the text the projector wraps them in (gemma3's start/end-of-image). */
function assertImageGrowth(grown: number) {
  assert.ok(grown >= IMAGE_TOKENS && grown <= IMAGE_TOKENS + IMAGE_WRAP, `grew by ${grown}`);
}

/** Unloads the model, so the next prompt is evaluated whole: prompt_eval_count leaves out a reused KV prefix. */
async function unload(server = srv) {
  const res = await postJson(server.url, "/api/generate", { model: "vis", keep_alive: 0 });
  assert.equal(res.status, 200, res.text);
}

/** A generation whose prompt_eval_count counts the whole prompt. */
async function generateFresh(body: Record<string, unknown>) {
  await unload();
  return generate(body);
}

async function chatFresh(messages: unknown[]) {
  await unload();
  return chat(messages);
}

async function generate(body: Record<string, unknown>) {
  const res = await postJson(srv.url, "/api/generate", { model: "vis", stream: false, options: greedy, ...body });
  assert.equal(res.status, 200, res.text);
  return res.json as { response: string; prompt_eval_count: number; eval_count: number };
}

async function chat(messages: unknown[], extra: Record<string, unknown> = {}) {
  const res = await postJson(srv.url, "/api/chat", { model: "vis", stream: false, options: greedy, messages, ...extra });
  assert.equal(res.status, 200, res.text);
  return res.json as { message: { content: string }; prompt_eval_count: number };
}

test("create with a projector: a projector layer, show lists vision and projector_info", async () => {
  const manifest = (await postJson(srv.url, "/api/show", { model: "vis" })).json;
  assert.ok(manifest.capabilities.includes("vision"), JSON.stringify(manifest.capabilities));
  assert.ok(manifest.capabilities.includes("completion"));
  assert.equal(manifest.projector_info["general.architecture"], "clip");
  assert.equal(manifest.projector_info["clip.vision.projection_dim"], 128);
  assert.equal(manifest.model_info["llama.embedding_length"], 128);
  // The projector is a layer of its own media type.
  const tags = (await postJson(srv.url, "/api/tags", undefined, "GET")).json;
  const vis = tags.models.find((m: { name: string }) => m.name === "vis:latest");
  assert.deepEqual(Object.keys(vis), ["name", "model", "modified_at", "size", "digest", "details", "capabilities"]);
  const text = (await postJson(srv.url, "/api/show", { model: "stories" })).json;
  assert.ok(!text.capabilities.includes("vision"));
  assert.equal(text.projector_info, undefined);
});

test("the CLI's show prints a Projector section", async () => {
  const r = await runCli(`127.0.0.1:${srv.port}`, ["show", "vis"]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /Projector\n\s+architecture\s+clip\s*\n/);
  assert.match(r.stdout, /Capabilities\n(\s+\w+\s*\n)*\s+vision\s*\n/);
});

test("/api/generate: the image reaches the model and counts in prompt_eval_count", { skip: !onLlamaServer }, async () => {
  const plain = await generateFresh({ prompt: "describe" });
  const red = await generateFresh({ prompt: "describe", images: [images.red] });
  const blue = await generate({ prompt: "describe", images: [images.blue] });
  const redAgain = await generateFresh({ prompt: "describe", images: [images.red] });
  // The image's tokens replace its `[img-0]` marker.
  const grown = red.prompt_eval_count - plain.prompt_eval_count;
  assertImageGrowth(grown);
  assert.equal(red.eval_count, 12);
  assert.notEqual(red.response, blue.response, "different images, different greedy text");
  assert.notEqual(red.response, plain.response);
  assert.equal(redAgain.response, red.response, "the same image, the same text");
  assert.equal(redAgain.prompt_eval_count, red.prompt_eval_count);
});

test("/api/chat: images in messages; two images count twice", { skip: !onLlamaServer }, async () => {
  const red = await chatFresh([{ role: "user", content: "describe", images: [images.red] }]);
  const blue = await chat([{ role: "user", content: "describe", images: [images.blue] }]);
  const plain = await chatFresh([{ role: "user", content: "describe" }]);
  assert.notEqual(red.message.content, blue.message.content);
  const grown = red.prompt_eval_count - plain.prompt_eval_count;
  assertImageGrowth(grown);
  const both = await chatFresh([{ role: "user", content: "compare", images: [images.red, images.blue] }]);
  assert.ok(both.prompt_eval_count >= plain.prompt_eval_count + 2 * IMAGE_TOKENS, String(both.prompt_eval_count));
  // A follow-up turn keeps the earlier image in its place.
  const turn2 = await chatFresh([
    { role: "user", content: "describe", images: [images.red] },
    { role: "assistant", content: red.message.content },
    { role: "user", content: "more" },
  ]);
  assert.ok(turn2.prompt_eval_count > red.prompt_eval_count);
});

test("JPEG, WebP, GIF and an image larger than the projector's input", { skip: !onLlamaServer }, async () => {
  const red = await generateFresh({ prompt: "describe", images: [images.red] });
  // Solid colours survive every codec closely enough for this model to see the same thing.
  for (const data of [images.redJpeg, b64(await webp(RED)), b64(await gif(RED)), b64(await jpeg(RED, 3000, 2000))]) {
    const r = await generateFresh({ prompt: "describe", images: [data] });
    assert.equal(r.prompt_eval_count, red.prompt_eval_count);
  }
  const green = await generate({ prompt: "describe", images: [b64(await gif(GREEN, 40, 30))] });
  assert.notEqual(green.response, red.response);
});

test("large images are shrunk to the projector's input, aspect kept, as PNG", async () => {
  const out = Buffer.from(await normaliseImage(b64(await jpeg(BLUE, 300, 200)), 32), "base64");
  const meta = await sharp(out).metadata();
  assert.deepEqual([meta.format, meta.width], ["png", 32]);
  assert.ok(meta.height === 21 || meta.height === 22, String(meta.height));
  const small = await sharp(Buffer.from(await normaliseImage(b64(await png(BLUE, 20, 10)), 32), "base64")).metadata();
  assert.deepEqual([small.width, small.height], [20, 10]);
});

test("llama-server's prompt: each [img-N] becomes its marker and image N, in order; the BOS text goes", () => {
  const p = mediaPrompt("<s>[img-1] a [img-0] b [img-1]", ["A", "B"], "<M>", "<s>");
  assert.deepEqual(p, { prompt_string: "<M> a <M> b <M>", multimodal_data: ["B", "A", "B"] });
  assert.throws(() => mediaPrompt("[img-2]", ["A"], "<M>", ""), { status: 400, message: "invalid image index: 2" });
});

test("the official ollama client's images (bytes and base64)", { skip: !onLlamaServer }, async () => {
  const ollama = new Ollama({ host: srv.url });
  const want = await generate({ prompt: "describe", images: [images.red] });
  const bytes = await ollama.generate({ model: "vis", prompt: "describe", images: [await png(RED)], options: greedy });
  assert.equal(bytes.response, want.response);
  const chatWant = await chat([{ role: "user", content: "describe", images: [images.blue] }]);
  const viaChat = await ollama.chat({ model: "vis", messages: [{ role: "user", content: "describe", images: [images.blue] }], options: greedy });
  assert.equal(viaChat.message.content, chatWant.message.content);
});

test("/v1/chat/completions image_url parts (official openai SDK)", { skip: !onLlamaServer }, async () => {
  const openai = new OpenAI({ baseURL: `${srv.url}/v1`, apiKey: "corral", maxRetries: 0 });
  const ask = (data: string) =>
    openai.chat.completions.create({
      model: "vis",
      temperature: 0,
      seed: 1,
      max_tokens: 12,
      messages: [{ role: "user", content: [{ type: "text", text: "describe" }, { type: "image_url", image_url: { url: `data:image/png;base64,${data}` } }] }],
    });
  await unload();
  const red = await ask(images.red);
  const blue = await ask(images.blue);
  assert.notEqual(red.choices[0]!.message.content, blue.choices[0]!.message.content);
  await unload();
  const plain = await openai.chat.completions.create({ model: "vis", temperature: 0, max_tokens: 12, messages: [{ role: "user", content: "describe" }] });
  assert.ok(red.usage!.prompt_tokens >= plain.usage!.prompt_tokens + IMAGE_TOKENS);
  assert.equal((await ask(images.red)).choices[0]!.message.content, red.choices[0]!.message.content);
});

test("/v1/messages base64 image blocks (official @anthropic-ai/sdk)", { skip: !onLlamaServer }, async () => {
  const anthropic = new Anthropic({ baseURL: srv.url, apiKey: "corral", maxRetries: 0 });
  const ask = (data: string) =>
    anthropic.messages.create({
      model: "vis",
      max_tokens: 12,
      temperature: 0,
      messages: [{ role: "user", content: [{ type: "image", source: { type: "base64", media_type: "image/png", data } }, { type: "text", text: "describe" }] }],
    } as never) as Promise<Anthropic.Message>;
  const text = (m: Anthropic.Message) => m.content.map((b) => (b.type === "text" ? b.text : "")).join("");
  await unload();
  const red = await ask(images.red);
  const blue = await ask(images.blue);
  assert.notEqual(text(red), text(blue));
  assert.ok(red.usage.input_tokens > IMAGE_TOKENS, JSON.stringify(red.usage));
  assert.equal(text(await ask(images.red)), text(red));
});

test("a text-only model given an image answers Ollama's error", async () => {
  for (const [path, body] of [
    ["/api/generate", { prompt: "hi", images: [images.red] }],
    ["/api/chat", { messages: [{ role: "user", content: "hi", images: [images.red] }] }],
  ] as const) {
    const res = await postJson(srv.url, path, { model: "stories", stream: false, ...body });
    assert.equal(res.status, 400, res.text);
    assert.deepEqual(res.json, { error: NO_VISION_MESSAGE });
  }
});

test("a corrupt or non-image payload is a 400, and the model still serves", { skip: !onLlamaServer }, async () => {
  for (const data of [b64(Buffer.from("this is not an image")), b64((await png(RED)).subarray(0, 60)), b64(Buffer.from("<svg xmlns='http://www.w3.org/2000/svg'/>"))]) {
    const res = await postJson(srv.url, "/api/generate", { model: "vis", prompt: "hi", stream: false, images: [data] });
    assert.equal(res.status, 400, res.text);
    assert.match(res.json.error, /^invalid image input: /);
  }
  const empty = await postJson(srv.url, "/api/chat", { model: "vis", stream: false, messages: [{ role: "user", content: "hi", images: [""] }] });
  assert.equal(empty.status, 400);
  assert.equal((await generate({ prompt: "describe", images: [images.red] })).eval_count, 12);
});

test("an image prompt longer than the context is a 400, and the slot is free again", { skip: !onLlamaServer }, async () => {
  const long = "once upon a time ".repeat(600);
  const res = await postJson(srv.url, "/api/generate", { model: "vis", prompt: long, images: [images.red], stream: false, options: { ...greedy, num_ctx: 2048 } });
  assert.equal(res.status, 400, res.text);
  assert.match(res.json.error, /^the prompt is longer than the context length/);
  assert.equal((await generate({ prompt: "describe", images: [images.red], options: { ...greedy, num_ctx: 2048 } })).eval_count, 12);
});

test("a missing projector blob fails the create with a clear 400", async () => {
  const model = await uploadBlob(srv.url, modelPath);
  const res = await postJson(srv.url, "/api/create", {
    model: "broken",
    files: { "m.gguf": model, "mmproj.gguf": `sha256:${"0".repeat(64)}` },
    stream: false,
  });
  assert.equal(res.status, 400);
  assert.match(res.json.error, /blob sha256:0{64} for file "mmproj.gguf" not found/);
});

test("Modelfile: FROM a directory holding model and projector, or a second FROM line", async () => {
  const modelDir = join(dir, "model-dir");
  await mkdir(modelDir, { recursive: true });
  await copyFile(modelPath, join(modelDir, "model.gguf"));
  await copyFile(PROJECTOR, join(modelDir, "mmproj-model.gguf"));
  const host = `127.0.0.1:${srv.port}`;
  await writeFile(join(dir, "Modelfile.dir"), "FROM ./model-dir\n");
  await writeFile(join(dir, "Modelfile.two"), `FROM ${modelPath}\nFROM ${PROJECTOR}\n`);
  for (const [name, file] of [["visdir", "Modelfile.dir"], ["vistwo", "Modelfile.two"]]) {
    const r = await runCli(host, ["create", name, "-f", join(dir, file)]);
    assert.equal(r.code, 0, r.stderr);
    const show = (await postJson(srv.url, "/api/show", { model: name })).json;
    assert.ok(show.capabilities.includes("vision"), name);
    assert.equal(show.projector_info["general.architecture"], "clip");
    assert.match(show.modelfile, /\nFROM \S+\nFROM \S+\n/);
  }
});

test("corral run attaches an image path in the prompt (one shot)", { skip: !onLlamaServer }, async () => {
  await writeFile(join(dir, "photo.png"), await png(RED));
  await unload();
  const r = await runCli(`127.0.0.1:${srv.port}`, ["run", "--verbose", "vis8", "describe this ./photo.png"], { cwd: dir });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /Added image '\.\/photo\.png'/);
  const count = Number(/prompt eval count:\s+(\d+)/.exec(r.stderr)?.[1]);
  assert.ok(count > IMAGE_TOKENS, r.stderr);
});

test("the REPL attaches an image path in a message, and the next turn keeps it", { skip: !onLlamaServer }, async () => {
  await writeFile(join(dir, "blue.png"), await png(BLUE));
  const t = await Terminal.start([process.execPath, CLI, "run", "vis8"], { OLLAMA_HOST: `127.0.0.1:${srv.port}`, HOME: dir });
  const ready = (s: string) => s.endsWith(">>> Send a message (/? for help)");
  try {
    await t.waitFor(ready);
    await t.line(`what is this ${join(dir, "blue.png")}`);
    await t.waitFor((s) => s.includes(`Added image '${join(dir, "blue.png")}'`) && ready(s));
    await t.line("/set verbose");
    await t.waitFor((s) => s.includes("Set 'verbose' mode.") && ready(s));
    // A fresh runner evaluates the whole second-turn prompt, so its count shows what the prompt holds.
    await unload();
    await t.line("and now?");
    const screen = await t.waitFor((s) => /prompt eval count:\s+\d+/.test(s) && ready(s));
    // The second turn's prompt still holds the first turn's image.
    assert.ok(Number(/prompt eval count:\s+(\d+)/.exec(screen)![1]) > IMAGE_TOKENS, screen);
  } finally {
    await t.stop();
  }
});

test("image and text requests share the slots: in parallel, each answers as it does alone", { skip: !onLlamaServer }, async () => {
  const alone = {
    red: (await generate({ prompt: "describe", images: [images.red] })).response,
    blue: (await chat([{ role: "user", content: "describe", images: [images.blue] }])).message.content,
    text: (await generate({ prompt: "Once upon a time" })).response,
  };
  const [red, blue, text, red2] = await Promise.all([
    generate({ prompt: "describe", images: [images.red] }),
    chat([{ role: "user", content: "describe", images: [images.blue] }]),
    generate({ prompt: "Once upon a time" }),
    generate({ prompt: "describe", images: [images.red] }),
  ]);
  assert.equal(red.response, alone.red);
  assert.equal(red2.response, alone.red);
  assert.equal(blue.message.content, alone.blue);
  assert.equal(text.response, alone.text);
});

test("a model pulled from a registry with a projector layer loads with it", { skip: !onLlamaServer }, async () => {
  const registry = await startRegistry();
  const other = await startTestServer();
  try {
    const name = `${registry.host}/corral/vis:v1`;
    assert.equal((await postJson(srv.url, "/api/copy", { source: "vis", destination: name })).status, 200);
    assert.equal((await postJson(srv.url, "/api/push", { model: name, insecure: true, stream: false })).status, 200);
    const pulled = await postJson(other.url, "/api/pull", { model: name, insecure: true, stream: false });
    assert.equal(pulled.status, 200, pulled.text);
    const manifest = (await postJson(other.url, "/api/show", { model: name })).json;
    assert.ok(manifest.capabilities.includes("vision"));
    const want = await generateFresh({ prompt: "describe", images: [images.blue] });
    const res = await postJson(other.url, "/api/generate", { model: name, prompt: "describe", images: [images.blue], stream: false, options: greedy });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.response, want.response);
    assert.equal(res.json.prompt_eval_count, want.prompt_eval_count);
  } finally {
    await other.stop();
    await registry.stop();
  }
});

test("images on the node-llama-cpp engine: a 400 naming the missing engine", async () => {
  const other = await startTestServer({ CORRAL_ENGINE: "node-llama-cpp" });
  try {
    await createVisionModel(other.url, "vis", modelPath);
    const res = await postJson(other.url, "/api/generate", { model: "vis", prompt: "hi", stream: false, images: [images.red] });
    assert.equal(res.status, 400);
    assert.deepEqual(res.json, { error: IMAGES_NEED_LLAMA_SERVER });
  } finally {
    await other.stop();
  }
});
