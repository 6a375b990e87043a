import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { getLlama, LlamaCompletion, readGgufFileInfo } from "node-llama-cpp";
import { GgmlType, GgufValueType as T } from "../src/gguf/types.js";
import { encodeF16, encodeF32, encodeQ8_0, f32ToF16Bits, writeGguf, type GgufWriteValue } from "../src/gguf/writer.js";
import { readGguf } from "../src/gguf/reader.js";
import { buildRandomLlama } from "../bench/random-model.js";

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "corral-gguf-writer-"));
  try { await fn(dir); } finally { await rm(dir, { recursive: true, force: true }); }
}

/** node-llama-cpp nests metadata by dots. */
function lookup(meta: unknown, key: string): unknown {
  return key.split(".").reduce((o: any, k) => o?.[k], meta);
}

function norm(v: unknown): unknown {
  if (typeof v === "bigint") return v;
  if (typeof v === "number" || typeof v === "string" || typeof v === "boolean") return v;
  if (v && typeof v === "object" && "value" in v) return norm((v as GgufWriteValue).value);
  return Array.from(v as ArrayLike<unknown>, norm);
}

test("f32 -> f16 rounding", () => {
  const cases: [number, number][] = [
    [0, 0x0000], [-0, 0x8000], [1, 0x3c00], [-2, 0xc000], [0.1, 0x2e66], [65504, 0x7bff], [65520, 0x7c00],
    [1e9, 0x7c00], [-Infinity, 0xfc00], [2 ** -24, 0x0001], [2 ** -25, 0x0000], [3 * 2 ** -25, 0x0002],
    [6.1035156e-5, 0x0400], [1 + 2 ** -11, 0x3c00] /* tie to even */, [1 + 3 * 2 ** -11, 0x3c02],
  ];
  for (const [x, bits] of cases) assert.equal(f32ToF16Bits(x), bits, `f16(${x})`);
  assert.equal(f32ToF16Bits(NaN) & 0x7c00, 0x7c00);
  assert.notEqual(f32ToF16Bits(NaN) & 0x3ff, 0);
});

test("Q8_0 block layout", () => {
  const x = Float32Array.from({ length: 32 }, (_, i) => (i - 16) / 8); // max |x| = 2
  const b = encodeQ8_0(x);
  assert.equal(b.length, 34);
  assert.equal(b.readUInt16LE(0), f32ToF16Bits(2 / 127));
  assert.equal(b.readInt8(2), -127);
  assert.equal(b.readInt8(2 + 16), 0);
  assert.equal(b.readInt8(2 + 31), Math.round((15 / 8) / (2 / 127)));
  assert.deepEqual(encodeQ8_0(new Float32Array(32)), Buffer.alloc(34)); // all-zero block: d = 0, q = 0
  assert.throws(() => encodeQ8_0(new Float32Array(31)), /multiple of 32/);
});

test("writes every value type and tensor type, read back by node-llama-cpp and our reader", () => withDir(async (dir) => {
  const meta: [string, GgufWriteValue][] = [
    ["general.architecture", { type: T.STRING, value: "test" }],
    ["test.u8", { type: T.UINT8, value: 200 }],
    ["test.i8", { type: T.INT8, value: -100 }],
    ["test.u16", { type: T.UINT16, value: 60000 }],
    ["test.i16", { type: T.INT16, value: -30000 }],
    ["test.u32", { type: T.UINT32, value: 4_000_000_000 }],
    ["test.i32", { type: T.INT32, value: -2_000_000_000 }],
    ["test.f32", { type: T.FLOAT32, value: Math.fround(3.14159) }],
    ["test.bool", { type: T.BOOL, value: true }],
    ["test.string", { type: T.STRING, value: "héllo ✓" }],
    ["test.u64", { type: T.UINT64, value: 2n ** 60n + 3n }],
    ["test.i64", { type: T.INT64, value: -(2n ** 50n) }],
    ["test.f64", { type: T.FLOAT64, value: Math.PI }],
    ["test.arr_str", { type: T.ARRAY, arrayType: T.STRING, value: ["a", "", "ü"] }],
    ["test.arr_i32", { type: T.ARRAY, arrayType: T.INT32, value: Int32Array.of(1, -2, 3) }],
    ["test.arr_f32", { type: T.ARRAY, arrayType: T.FLOAT32, value: Float32Array.of(0.5, -1.25) }],
    ["test.arr_bool", { type: T.ARRAY, arrayType: T.BOOL, value: [true, false] }],
    ["test.arr_u8", { type: T.ARRAY, arrayType: T.UINT8, value: [] }],
    ["test.arr_nested", { type: T.ARRAY, arrayType: T.ARRAY, value: [
      { type: T.ARRAY, arrayType: T.UINT16, value: [1, 2] }, { type: T.ARRAY, arrayType: T.UINT16, value: [3] }] }],
  ];
  const f32 = encodeF32(Float32Array.from({ length: 15 }, (_, i) => i * 0.5));
  const f16 = encodeF16(Float32Array.from({ length: 16 }, (_, i) => -i));
  const q8 = encodeQ8_0(Float32Array.from({ length: 128 }, (_, i) => Math.sin(i)));
  const path = join(dir, "all.gguf");
  await writeGguf(path, meta, [
    { name: "t.f32", type: GgmlType.F32, shape: [5, 3], data: f32 },
    { name: "t.f16", type: GgmlType.F16, shape: [8, 2], data: async function* () { yield f16.subarray(0, 10); yield f16.subarray(10); } },
    { name: "t.q8_0", type: GgmlType.Q8_0, shape: [64, 2], data: () => [0, 1, 2, 3].map((b) => q8.subarray(b * 34, b * 34 + 34)) },
  ], { alignment: 64 });

  const info = await readGgufFileInfo(path, { readTensorInfo: true, logWarnings: false });
  assert.equal(info.version, 3);
  for (const [k, v] of meta) {
    const got = lookup(info.metadata, k);
    const want = norm(v);
    assert.deepEqual(typeof want === "bigint" ? BigInt(got as number) : norm(got), want, k);
  }
  assert.equal(lookup(info.metadata, "general.alignment"), 64);

  const file = await readFile(path);
  const expect = [
    { name: "t.f32", dims: [5, 3], type: GgmlType.F32, offset: 0, data: f32 },
    { name: "t.f16", dims: [8, 2], type: GgmlType.F16, offset: 64, data: f16 },
    { name: "t.q8_0", dims: [64, 2], type: GgmlType.Q8_0, offset: 128, data: q8 },
  ];
  assert.equal(info.tensorInfo!.length, expect.length);
  info.tensorInfo!.forEach((t, i) => {
    const e = expect[i]!;
    assert.equal(t.name, e.name);
    assert.deepEqual(t.dimensions.map(Number), e.dims);
    assert.equal(Number(t.ggmlType), e.type);
    assert.equal(Number(t.offset), e.offset);
    assert.equal(Number(t.fileOffset) % 64, 0, `${t.name} data is aligned`);
    assert.deepEqual(file.subarray(Number(t.fileOffset), Number(t.fileOffset) + e.data.length), e.data, t.name);
  });
  assert.equal(file.length, Number(info.tensorInfo![2]!.fileOffset) + 192); // 136 bytes padded to 64

  // Our reader keeps the declared types.
  const ours = await readGguf(path);
  for (const [k, v] of meta) {
    const got = ours.metadata.get(k);
    assert.ok(got, k);
    assert.equal(got.type, v.type, `${k} type`);
    if (v.arrayType !== undefined) assert.equal(got.arrayType, v.arrayType, `${k} arrayType`);
    const want = norm(v);
    assert.deepEqual(typeof want === "bigint" ? BigInt(got.value as number) : norm(got.value), want, k);
  }
}));

test("a tensor with the wrong byte length is rejected and nothing is left behind", () => withDir(async (dir) => {
  const path = join(dir, "bad.gguf");
  const kv: [string, GgufWriteValue][] = [["general.architecture", { type: T.STRING, value: "test" }]];
  await assert.rejects(
    writeGguf(path, kv, [{ name: "w", type: GgmlType.F16, shape: [4, 4], data: Buffer.alloc(30) }]),
    /tensor w: data is 30 bytes, F16 \[4, 4\] needs 32/);
  await assert.rejects( // streamed data is checked as it is written
    writeGguf(path, kv, [
      { name: "ok", type: GgmlType.F32, shape: [2], data: Buffer.alloc(8) },
      { name: "w", type: GgmlType.Q8_0, shape: [32, 2], data: function* () { yield Buffer.alloc(34); } },
    ]),
    /tensor w: data stream gave 34 bytes, Q8_0 \[32, 2\] needs 68/);
  await assert.rejects(
    writeGguf(path, kv, [{ name: "w", type: GgmlType.F32, shape: [2], data: () => [Buffer.alloc(12)] }]),
    /more than/);
  await assert.rejects(
    writeGguf(path, kv, [{ name: "w", type: GgmlType.Q8_0, shape: [16, 2], data: Buffer.alloc(34) }]),
    /not a multiple of the Q8_0 block size 32/);
  await assert.rejects(writeGguf(path, [["x.u8", { type: T.UINT8, value: 300 }]], []), /metadata x\.u8: .*out of range/);
  await assert.rejects(writeGguf(path, [["x.arr", { type: T.ARRAY, value: [1] }]], []), /x\.arr: an ARRAY needs an arrayType/);
  assert.deepEqual(await readdir(dir), []);
}));

test("a tiny random llama with the real SPM tokenizer loads and generates in node-llama-cpp", () => withDir(async (dir) => {
  const path = join(dir, "tiny.gguf");
  await buildRandomLlama(path, { dim: 64, layers: 2, heads: 4, kvHeads: 2, ffn: 128, contextLength: 256, weightType: "Q8_0" });
  const llama = await getLlama({ gpu: false, build: "never", maxThreads: 1 });
  try {
    const model = await llama.loadModel({ modelPath: path });
    assert.equal(model.fileInfo.metadata.general.architecture, "llama");
    assert.equal(model.tokens.bos, 1);
    assert.deepEqual(model.tokenize("Hello world"), [15043, 3186]); // the real SPM vocab, not a stub
    const ctx = await model.createContext({ contextSize: 256, threads: 1 });
    const seq = ctx.getSequence();
    const before = seq.tokenMeter.getState();
    const res = await new LlamaCompletion({ contextSequence: seq }).generateCompletionWithMeta("Once upon a time", {
      maxTokens: 8, temperature: 0.8, topK: 40, topP: 0.9, seed: 1, repeatPenalty: false });
    assert.equal(res.metadata.stopReason, "maxTokens");
    assert.ok(seq.tokenMeter.diff(before).usedOutputTokens >= 7);
    await ctx.dispose();
    await model.dispose();
  } finally {
    await llama.dispose();
  }
}));
