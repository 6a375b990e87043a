// Quantization: a random-weight F32 llama (real tokenizer) quantized by our pipeline must hold, for
// every tensor, exactly the bytes llama.cpp's per-tensor quantizer (ggml_quantize_chunk) gives for
// the same input and the type the file declares; the result loads and generates.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildRandomLlama } from "../bench/random-model.js";
import { readGguf } from "../src/gguf/reader.js";
import { kvNumber } from "../src/gguf/info.js";
import { loadLlamaQuantLib } from "../src/gguf/llama-ffi.js";
import { checkQuantizable, parseQuantizeType, quantizeGguf, QuantizeError } from "../src/gguf/quantize.js";
import { readTensorBytes, readTensorF32 } from "../src/gguf/tensor-data.js";
import { GgmlType } from "../src/gguf/types.js";
import { greedy } from "./support/engine-run.js";
import { SHARED } from "./support/server.js";

const VOCAB = join(SHARED, "models/vocab/ggml-vocab-llama-spm.gguf");
// K-quants need rows of 256; one layer keeps it small. Most bytes are the 32000-token embeddings.
const SHAPE = { dim: 256, layers: 1, heads: 4, kvHeads: 2, ffn: 512, contextLength: 256, weightType: "F32" as const, seed: 7, vocabFile: VOCAB };

describe("quantize", () => {
  let dir: string;
  let input: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "corral-quant-"));
    input = join(dir, "f32.gguf");
    await buildRandomLlama(input, SHAPE);
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  for (const [type, mainTypes] of [
    ["q8_0", [GgmlType.Q8_0]],
    ["q4_0", [GgmlType.Q4_0]],
    ["q4_K_S", [GgmlType.Q4_K]],
    ["q4_K_M", [GgmlType.Q4_K, GgmlType.Q6_K]],
    ["q5_K_M", [GgmlType.Q5_K, GgmlType.Q6_K]],
    ["q6_K", [GgmlType.Q6_K]],
  ] as const) {
    test(`${type}: tensors equal llama.cpp's quantizer`, async () => {
      const header = await readGguf(input);
      const out = join(dir, `${type}.gguf`);
      const seen: number[] = [];
      await quantizeGguf(input, header, out, type, { threads: 2, onProgress: (c) => seen.push(c) });
      assert.ok(seen.length > 1 && seen.at(-1) === header.tensors.reduce((n, t) => n + t.shape[0]! * (t.shape[1] ?? 1) * 4, 0));

      const q = await readGguf(out);
      assert.equal(kvNumber(q, "general.file_type"), parseQuantizeType(type).ftype);
      assert.equal(q.tensors.length, header.tensors.length);
      const lib = loadLlamaQuantLib();
      const used = new Set<GgmlType>();
      for (const t of q.tensors) {
        const src = header.tensors.find((s) => s.name === t.name)!;
        assert.deepEqual(t.shape, src.shape, t.name);
        const got = await readTensorBytes(out, q, t);
        if (t.type === src.type) {
          assert.ok(got.equals(await readTensorBytes(input, header, src)), `${t.name} copied unchanged`);
          continue;
        }
        used.add(t.type);
        const rows = t.shape.slice(1).reduce((a, b) => a * b, 1);
        const ref = lib.quantizeRows(t.type, await readTensorF32(input, header, src), rows, t.shape[0]!);
        assert.ok(got.equals(ref), `${t.name} (${GgmlType[t.type]}) differs from ggml_quantize_chunk`);
      }
      for (const m of mainTypes) assert.ok(used.has(m), `${type} uses ${GgmlType[m]}: ${[...used].map((u) => GgmlType[u])}`);
    });
  }

  test("the quantized model loads and generates", async () => {
    const run = await greedy(join(dir, "q4_K_M.gguf"), { maxTokens: 8 });
    assert.equal(run.evalTokens, 8);
  });

  test("requantizing is refused with Ollama's message", async () => {
    const q = await readGguf(join(dir, "q8_0.gguf"));
    assert.throws(() => checkQuantizable(q), new QuantizeError("quantization is only supported for F16, BF16 and F32 models"));
    await assert.rejects(quantizeGguf(join(dir, "q8_0.gguf"), q, join(dir, "re.gguf"), "q4_0"), /only supported for F16, BF16 and F32/);
  });

  test("unknown types are refused with the list of supported ones", () => {
    assert.throws(() => parseQuantizeType("q9_z"), /unsupported quantization type q9_z - supported types are F32, F16, BF16, Q4_0/);
    assert.equal(parseQuantizeType("Q4_k_m").name, "Q4_K_M");
  });
});
