// LoRA: an adapter written at test time changes stories260K's greedy output; alpha and the runner's
// scale are honoured; a PEFT safetensors adapter converts to the same adapter; bad adapters are refused.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readGguf } from "../src/gguf/reader.js";
import { convertPeftAdapter, LoraError, validateAdapter } from "../src/gguf/lora.js";
import { greedy } from "./support/engine-run.js";
import { randomPairs, writeLoraGguf, writePeftAdapter } from "./support/lora-adapter.js";
import { STORIES } from "./support/server.js";

const R = 4;

describe("LoRA adapters", () => {
  let tmp: string;
  let base: Awaited<ReturnType<typeof greedy>>;
  before(async () => {
    tmp = await mkdtemp(join(tmpdir(), "corral-lora-"));
    base = await greedy(STORIES, { maxTokens: 16 });
  });
  after(async () => {
    await rm(tmp, { recursive: true, force: true });
  });

  test("an adapter changes the output; scale 0 and a zero B give the base output", async () => {
    const path = join(tmp, "a.gguf");
    await writeLoraGguf(path, randomPairs(R, 1), R, R);
    validateAdapter(await readGguf(path), await readGguf(STORIES));
    const adapted = await greedy(STORIES, { maxTokens: 16, adapters: [{ path, scale: 1 }] });
    assert.notDeepEqual(adapted.tokens, base.tokens);
    const off = await greedy(STORIES, { maxTokens: 16, adapters: [{ path, scale: 0 }] });
    assert.deepEqual(off.tokens, base.tokens);
    const zero = join(tmp, "zero.gguf");
    await writeLoraGguf(zero, randomPairs(R, 1, 0), R, R);
    assert.deepEqual((await greedy(STORIES, { maxTokens: 16, adapters: [{ path: zero, scale: 1 }] })).tokens, base.tokens);
  });

  test("alpha scales the update: (B, alpha 8) equals (2B, alpha 4)", async () => {
    const p1 = join(tmp, "alpha8.gguf");
    const p2 = join(tmp, "alpha4x2.gguf");
    await writeLoraGguf(p1, randomPairs(R, 2), R, 8);
    await writeLoraGguf(p2, randomPairs(R, 2, 2), R, 4);
    const a = await greedy(STORIES, { maxTokens: 16, adapters: [{ path: p1, scale: 1 }] });
    const b = await greedy(STORIES, { maxTokens: 16, adapters: [{ path: p2, scale: 1 }] });
    assert.deepEqual(a.tokens, b.tokens);
    assert.notDeepEqual(a.tokens, base.tokens);
  });

  test("a PEFT safetensors adapter converts to the equivalent GGUF adapter", async () => {
    const pairs = randomPairs(R, 3);
    const ggufPath = join(tmp, "direct.gguf");
    await writeLoraGguf(ggufPath, pairs, R, 8);
    const dir = join(tmp, "peft");
    await writePeftAdapter(dir, pairs, R, 8);
    const converted = join(tmp, "converted.gguf");
    const files = new Map((await readdir(dir)).map((f) => [f, join(dir, f)]));
    const stories = await readGguf(STORIES);
    await convertPeftAdapter(files, stories, converted);
    validateAdapter(await readGguf(converted), stories);
    const a = await greedy(STORIES, { maxTokens: 16, adapters: [{ path: ggufPath, scale: 1 }] });
    const b = await greedy(STORIES, { maxTokens: 16, adapters: [{ path: converted, scale: 1 }] });
    assert.deepEqual(b.tokens, a.tokens);
    assert.notDeepEqual(b.tokens, base.tokens);
  });

  test("adapters that do not fit the model are refused", async () => {
    const stories = await readGguf(STORIES);
    const wrongArch = join(tmp, "gpt2.gguf");
    await writeLoraGguf(wrongArch, randomPairs(R, 1), R, R, "gpt2");
    assert.throws(() => validateAdapter(stories, stories), /not an adapter/);
    assert.throws(() => validateAdapter(stories, stories), LoraError);
    const g = await readGguf(wrongArch);
    assert.throws(() => validateAdapter(g, stories), /adapter architecture gpt2 does not match the model's llama/);
    const badShape = join(tmp, "shape.gguf");
    const pairs = randomPairs(R, 1).map((p) => (p.target.endsWith("ffn_down.weight") ? { ...p, inDim: 64, a: p.a.slice(0, R * 64) } : p));
    await writeLoraGguf(badShape, pairs, R, R);
    const bad = await readGguf(badShape);
    assert.throws(() => validateAdapter(bad, stories), /blk\.0\.ffn_down\.weight: lora_a \[64,4\] \/ lora_b \[4,64\] do not fit the model's \[172,64\]/);
  });
});
