// Safetensors import: the shared tiny-random-gpt2 directory, a stories260K round trip
// (GGUF → Hugging Face directory → GGUF gives the same greedy tokens), random qwen2 / gemma /
// mistral models that must load, and headers that lie.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { copyFile, mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readGguf } from "../src/gguf/reader.js";
import { chatTemplate, kvNumber, kvString } from "../src/gguf/info.js";
import { convertSafetensors } from "../src/gguf/safetensors/convert.js";
import { openSafetensorsModel, readSafetensorsHeader, SafetensorsError } from "../src/gguf/safetensors/reader.js";
import { GgmlType } from "../src/gguf/types.js";
import { greedy } from "./support/engine-run.js";
import { CHAT_TEMPLATE, exportLlamaGguf, safetensorsBytes, sentencePieceModel, spmPiecesOf, writeRandomHf } from "./support/hf-export.js";
import { SHARED, STORIES } from "./support/server.js";

const GPT2 = join(SHARED, "models/safetensors/tiny-random-gpt2");

async function dirFiles(dir: string): Promise<Map<string, string>> {
  return new Map((await readdir(dir)).map((f) => [f, join(dir, f)]));
}

describe("safetensors import", () => {
  let tmp: string;
  before(async () => {
    tmp = await mkdtemp(join(tmpdir(), "corral-st-"));
  });
  after(async () => {
    await rm(tmp, { recursive: true, force: true });
  });

  test("tiny-random-gpt2 converts with its BPE tokenizer and generates", async () => {
    const out = join(tmp, "gpt2.gguf");
    await convertSafetensors(await dirFiles(GPT2), out, "tiny-random-gpt2");
    const g = await readGguf(out);
    assert.equal(kvString(g, "general.architecture"), "gpt2");
    assert.equal(kvString(g, "tokenizer.ggml.model"), "gpt2");
    assert.equal(kvString(g, "tokenizer.ggml.pre"), "gpt-2");
    assert.equal((g.metadata.get("tokenizer.ggml.tokens")!.value as string[]).length, 1000);
    assert.equal((g.metadata.get("tokenizer.ggml.merges")!.value as string[]).length, 806);
    // The tokenizer files win over config.json's mismatched ids (98).
    assert.equal(kvNumber(g, "tokenizer.ggml.bos_token_id"), 0);
    assert.equal(kvNumber(g, "tokenizer.ggml.eos_token_id"), 0);
    assert.equal((g.metadata.get("tokenizer.ggml.token_type")!.value as number[])[0], 3);
    assert.equal(kvNumber(g, "gpt2.feed_forward_length"), 128);
    assert.deepEqual(g.tensors.find((t) => t.name === "blk.0.attn_qkv.weight")!.shape, [32, 96]);
    assert.ok(!g.tensors.some((t) => t.name === "output.weight"), "tied head reuses token_embd");
    const run = await greedy(out, { prompt: "hello world", maxTokens: 8 });
    assert.ok(run.tokens.length > 2, "the runner tokenized and decoded");
  });

  test("stories260K round trip: sharded safetensors give the same greedy tokens", async () => {
    const dir = join(tmp, "stories-hf");
    await exportLlamaGguf(STORIES, dir, { shards: 2 });
    const out = join(tmp, "stories.gguf");
    await convertSafetensors(await dirFiles(dir), out);
    const g = await readGguf(out);
    assert.equal(chatTemplate(g), CHAT_TEMPLATE);
    assert.equal(kvNumber(g, "tokenizer.ggml.bos_token_id"), 1);
    assert.equal(kvNumber(g, "tokenizer.ggml.eos_token_id"), 2);
    assert.equal(g.metadata.get("tokenizer.ggml.add_bos_token")?.value, true);
    const want = await greedy(STORIES, { maxTokens: 24 });
    const got = await greedy(out, { maxTokens: 24 });
    assert.deepEqual(got.tokens, want.tokens);
    assert.equal(got.text, want.text);
    assert.match(got.text, /Lily/);
  });

  test("F16 and BF16 weights stay 16-bit and still load", async () => {
    for (const dtype of ["F16", "BF16"] as const) {
      const dir = join(tmp, `stories-${dtype}`);
      await exportLlamaGguf(STORIES, dir, { dtype });
      const out = join(tmp, `stories-${dtype}.gguf`);
      await convertSafetensors(await dirFiles(dir), out);
      const g = await readGguf(out);
      assert.equal(g.tensors.find((t) => t.name === "blk.0.attn_q.weight")!.type, dtype === "F16" ? GgmlType.F16 : GgmlType.BF16);
      assert.equal(g.tensors.find((t) => t.name === "blk.0.attn_norm.weight")!.type, GgmlType.F32);
      assert.equal(kvNumber(g, "general.file_type"), dtype === "F16" ? 1 : 32);
      const run = await greedy(out, { maxTokens: 8 });
      assert.equal(run.evalTokens, 8);
    }
  });

  for (const family of ["qwen2", "gemma", "mistral"] as const) {
    test(`a random ${family} model converts and generates`, async () => {
      const dir = join(tmp, family);
      const stories = await readGguf(STORIES);
      if (family === "qwen2") {
        await writeRandomHf(dir, family, 1000);
        for (const f of ["tokenizer.json", "tokenizer_config.json"]) await copyFile(join(GPT2, f), join(dir, f));
      } else {
        await writeRandomHf(dir, family, 512);
        await writeFile(join(dir, "tokenizer.model"), sentencePieceModel(spmPiecesOf(stories)));
      }
      const out = join(tmp, `${family}.gguf`);
      await convertSafetensors(await dirFiles(dir), out);
      const g = await readGguf(out);
      assert.equal(kvString(g, "general.architecture"), family === "mistral" ? "llama" : family);
      if (family === "qwen2") assert.equal(kvString(g, "tokenizer.ggml.pre"), "gpt-2");
      if (family === "gemma") assert.ok(g.tensors.every((t) => t.name !== "output.weight"));
      const run = await greedy(out, { maxTokens: 4 });
      assert.ok(run.tokens.length > 1);
    });
  }

  describe("headers that lie", () => {
    const T = { name: "w", shape: [2, 4], data: new Float32Array(8) };
    const cases: [string, (h: Record<string, any>) => void, RegExp][] = [
      ["a size that does not match the shape", (h) => (h.w.shape = [4, 4]), /hold 32 bytes, but F32 \[4,4\] needs 64/],
      ["an offset past the end", (h) => (h.w.data_offsets = [32, 64]), /past the end of the data/],
      ["an unknown dtype", (h) => (h.w.dtype = "Q4"), /unknown dtype "Q4"/],
      ["overlapping tensors", (h) => (h.v = { dtype: "F32", shape: [2], data_offsets: [0, 8] }), /overlap/],
      ["negative offsets", (h) => (h.w.data_offsets = [-8, 24]), /invalid data_offsets/],
    ];
    for (const [what, lie, why] of cases) {
      test(what, async () => {
        const p = join(tmp, "bad.safetensors");
        await writeFile(p, safetensorsBytes([T], lie));
        await assert.rejects(readSafetensorsHeader(p, "bad.safetensors"), (e: Error) => e instanceof SafetensorsError && why.test(e.message) && /bad\.safetensors/.test(e.message));
      });
    }

    test("a header length beyond the file, and a non-JSON header", async () => {
      const p = join(tmp, "bad2.safetensors");
      const b = safetensorsBytes([T]);
      b.writeBigUInt64LE(1n << 40n);
      await writeFile(p, b);
      await assert.rejects(readSafetensorsHeader(p), /header length 1099511627776 does not fit/);
      const c = safetensorsBytes([T]);
      c.write("!", 8);
      await writeFile(p, c);
      await assert.rejects(readSafetensorsHeader(p), /header is not JSON/);
    });

    test("an index that names the wrong shard", async () => {
      const dir = join(tmp, "badindex");
      await mkdir(dir, { recursive: true });
      await writeFile(join(dir, "a.safetensors"), safetensorsBytes([T]));
      await writeFile(join(dir, "model.safetensors.index.json"), JSON.stringify({ weight_map: { w: "b.safetensors", x: "a.safetensors" } }));
      await assert.rejects(openSafetensorsModel(await dirFiles(dir)), /lists tensor w in b\.safetensors, but it is in a\.safetensors/);
    });

    test("unsupported architectures and missing tensors are refused", async () => {
      const dir = join(tmp, "stories-bad");
      await exportLlamaGguf(STORIES, dir);
      const files = await dirFiles(dir);
      await writeFile(join(dir, "config.json"), JSON.stringify({ architectures: ["BertModel"] }));
      await assert.rejects(convertSafetensors(files, join(tmp, "x.gguf")), /unsupported architecture BertModel/);
      files.delete("config.json");
      await assert.rejects(convertSafetensors(files, join(tmp, "x.gguf")), /config\.json is missing/);
    });
  });
});
