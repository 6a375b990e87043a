// /api/create's heavy paths through the real server: quantize, a safetensors directory, LoRA adapters
// (GGUF and PEFT), their progress statuses and errors, and that a refused create writes nothing.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createFromGguf, ndjson, post, postJson, startTestServer, STORIES, SHARED, uploadBlob, type TestServer } from "./support/server.js";
import { safetensorsBytes } from "./support/hf-export.js";
import { randomPairs, writeLoraGguf, writePeftAdapter } from "./support/lora-adapter.js";

const GPT2 = join(SHARED, "models/safetensors/tiny-random-gpt2");
const greedy = { temperature: 0, num_predict: 12 };

describe("create: quantize, safetensors, adapters", () => {
  let srv: TestServer;
  let tmp: string;
  const blobs = async () => (await readdir(join(srv.models, "blobs"))).sort();
  const generate = async (model: string) => {
    const r = await postJson(srv.url, "/api/generate", { model, prompt: "Once upon a time", stream: false, options: greedy });
    assert.equal(r.status, 200, r.text);
    return r.json.context as number[];
  };
  const create = (body: Record<string, unknown>) => postJson(srv.url, "/api/create", { stream: false, ...body });
  const uploadDir = async (dir: string, names?: string[]) => {
    const files: Record<string, string> = {};
    for (const f of names ?? (await readdir(dir))) files[f] = await uploadBlob(srv.url, join(dir, f));
    return files;
  };

  before(async () => {
    srv = await startTestServer();
    tmp = await mkdtemp(join(tmpdir(), "corral-create-import-"));
    await createFromGguf(srv.url, "stories", STORIES);
  });
  after(async () => {
    await srv.stop();
    await rm(tmp, { recursive: true, force: true });
  });

  test("quantize streams its progress, and the result loads", async () => {
    const res = await post(srv.url, "/api/create", { model: "stories-q8", from: "stories", quantize: "q8_0" });
    assert.equal(res.status, 200);
    const lines = await ndjson(res);
    const progress = lines.filter((l) => l.status === "quantizing F32 model to Q8_0");
    assert.ok(progress.length > 1);
    assert.ok(progress.every((p) => p.total === 1171200 && p.completed <= p.total));
    assert.equal(progress.at(-1).completed, progress.at(-1).total);
    const statuses = lines.map((l) => l.status);
    assert.ok(statuses.indexOf("verifying conversion") > statuses.lastIndexOf("quantizing F32 model to Q8_0"));
    assert.match(statuses[statuses.indexOf("verifying conversion") + 1], /^creating new layer sha256:/);
    assert.deepEqual(statuses.slice(-2), ["writing manifest", "success"]);
    const show = await postJson(srv.url, "/api/show", { model: "stories-q8" });
    assert.equal(show.json.details.quantization_level, "Q8_0");
    assert.ok((await generate("stories-q8")).length > 4);
  });

  test("requantizing and unknown types are refused, and nothing is written", async () => {
    const before = await blobs();
    const re = await create({ model: "re", from: "stories-q8", quantize: "q4_0" });
    assert.equal(re.status, 400);
    assert.equal(re.json.error, "quantization is only supported for F16, BF16 and F32 models");
    const bad = await create({ model: "bad", from: "stories", quantize: "q3_z" });
    assert.equal(bad.status, 400);
    assert.match(bad.json.error, /^unsupported quantization type q3_z - supported types are F32, F16, BF16, Q4_0, /);
    assert.deepEqual(await blobs(), before);
  });

  test("re-creating a model prunes the blob nothing uses any more", async () => {
    const modelBlob = async (model: string) => /^FROM (.*sha256-[0-9a-f]{64})$/m.exec((await postJson(srv.url, "/api/show", { model })).json.modelfile)![1]!;
    assert.equal((await create({ model: "requant", from: "stories", quantize: "f16" })).status, 200);
    const f16 = await modelBlob("requant");
    assert.ok(existsSync(f16));
    assert.equal((await create({ model: "requant", from: "stories", quantize: "q8_0" })).status, 200);
    assert.ok(!existsSync(f16), "the F16 blob was pruned");
    assert.ok(existsSync(await modelBlob("stories-q8")), "a blob another model uses stays");
  });

  test("a safetensors directory converts, and generates", async () => {
    const files = await uploadDir(GPT2);
    const res = await post(srv.url, "/api/create", { model: "gpt2-tiny", files });
    assert.equal(res.status, 200);
    const statuses = (await ndjson(res)).map((l) => l.status);
    assert.equal(statuses[0], "converting model");
    assert.match(statuses[1], /^creating new layer sha256:/);
    assert.equal(statuses.at(-1), "success");
    const show = await postJson(srv.url, "/api/show", { model: "gpt2-tiny" });
    assert.equal(show.json.details.family, "gpt2");
    const r = await postJson(srv.url, "/api/generate", { model: "gpt2-tiny", prompt: "hello", raw: true, stream: false, options: { temperature: 0, num_predict: 4 } });
    assert.equal(r.status, 200, r.text);
  });

  test("a safetensors header that lies is a 400 with the reason, and nothing is written", async () => {
    const dir = join(tmp, "liar");
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, "model.safetensors"), safetensorsBytes([{ name: "w", shape: [2, 4], data: new Float32Array(8) }], (h) => (h.w.shape = [4, 4])));
    await writeFile(join(dir, "config.json"), await readFile(join(GPT2, "config.json")));
    const files = await uploadDir(dir);
    const before = await blobs();
    const r = await create({ model: "liar", files });
    assert.equal(r.status, 400);
    assert.match(r.json.error, /invalid safetensors file model\.safetensors: tensor w: data_offsets \[0, 32\] hold 32 bytes, but F32 \[4,4\] needs 64/);
    assert.deepEqual(await blobs(), before);
  });

  test("a GGUF LoRA adapter changes the output; a PEFT adapter converts; misfits are refused", async () => {
    const base = await generate("stories");
    const path = join(tmp, "lora.gguf");
    await writeLoraGguf(path, randomPairs(4, 11), 4, 4);
    const digest = await uploadBlob(srv.url, path);
    const r = await create({ model: "stories-lora", from: "stories", adapters: { "lora.gguf": digest } });
    assert.equal(r.status, 200, r.text);
    const adapted = await generate("stories-lora");
    assert.notDeepEqual(adapted, base);
    const mf = (await postJson(srv.url, "/api/show", { model: "stories-lora" })).json.modelfile as string;
    assert.match(mf, /^ADAPTER .*sha256-/m);

    const peft = join(tmp, "peft");
    await writePeftAdapter(peft, randomPairs(4, 11), 4, 4);
    const files = await uploadDir(peft);
    const s = await post(srv.url, "/api/create", { model: "stories-peft", from: "stories", adapters: files });
    const statuses = (await ndjson(s)).map((l) => l.status);
    assert.ok(statuses.includes("converting adapter"), statuses.join(" | "));
    assert.deepEqual(await generate("stories-peft"), adapted);

    const wrong = join(tmp, "wrong.gguf");
    await writeLoraGguf(wrong, randomPairs(4, 11), 4, 4, "gpt2");
    const before = await blobs();
    const w = await create({ model: "bad-lora", from: "stories", adapters: { "wrong.gguf": await uploadBlob(srv.url, wrong) } });
    assert.equal(w.status, 400);
    assert.equal(w.json.error, "adapter architecture gpt2 does not match the model's llama");
    const two = await create({ model: "bad-lora", from: "stories", adapters: { "a.gguf": digest, "b.gguf": await uploadBlob(srv.url, STORIES) } });
    assert.equal(two.status, 400);
    assert.equal(two.json.error, "only one adapter is currently supported");
    assert.deepEqual((await blobs()).filter((b) => !before.includes(b)).length, 1, "only the uploaded blobs are new");
  });
});
