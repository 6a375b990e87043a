import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GgmlType, GgufValueType as T } from "../src/gguf/types.js";
import { GgufError, readGguf } from "../src/gguf/reader.js";
import {
  architecture, chatTemplate, contextLength, embeddingLength, fileTypeName, humanNumber, modelInfo,
  parameterCount, poolingType, tensorsInfo, tokenText,
} from "../src/gguf/info.js";
import { SHARED } from "./support/server.js";

const MODELS = join(SHARED, "models");
const STORIES = join(MODELS, "stories260K.gguf");
const MMPROJ = join(MODELS, "multimodal/mmproj-tinygemma3.gguf");

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "corral-gguf-reader-"));
  try { await fn(dir); } finally { await rm(dir, { recursive: true, force: true }); }
}

/** Little-endian GGUF header bytes, written by hand. */
function header(version: number, tensorCount: number | bigint, kvs: Buffer[]): Buffer {
  const h = Buffer.alloc(24);
  h.write("GGUF", 0, "latin1");
  h.writeUInt32LE(version, 4);
  h.writeBigUInt64LE(BigInt(tensorCount), 8);
  h.writeBigUInt64LE(BigInt(kvs.length), 16);
  return Buffer.concat([h, ...kvs]);
}
const u32 = (n: number) => { const b = Buffer.alloc(4); b.writeUInt32LE(n); return b; };
const u64 = (n: number | bigint) => { const b = Buffer.alloc(8); b.writeBigUInt64LE(BigInt(n)); return b; };
const str = (s: string) => Buffer.concat([u64(Buffer.byteLength(s)), Buffer.from(s)]);
const kv = (key: string, type: T, value: Buffer) => Buffer.concat([str(key), u32(type), value]);

test("stories260K: header, metadata and tensors", async () => {
  const f = await readGguf(STORIES);
  assert.equal(f.version, 3);
  assert.equal(f.metadata.size, 19);
  assert.equal(f.tensors.length, 48);
  assert.equal(f.fileSize, 1185376);
  assert.equal(f.alignment, 32);
  assert.equal(f.dataOffset % 32, 0);
  assert.equal(architecture(f), "llama");
  assert.equal(contextLength(f), 2048);
  assert.equal(embeddingLength(f), 64);
  assert.equal(poolingType(f), undefined);
  assert.equal(f.metadata.get("llama.context_length")!.type, T.UINT32);
  assert.equal(parameterCount(f), 292800);
  assert.equal(fileTypeName(f), "F32"); // no general.file_type: derived from the tensors
  assert.equal(humanNumber(parameterCount(f)), "293K");
  const tokens = f.metadata.get("tokenizer.ggml.tokens")!;
  assert.equal(tokens.type, T.ARRAY);
  assert.equal(tokens.arrayType, T.STRING);
  assert.equal((tokens.value as string[]).length, 512);
  assert.equal(tokenText(f, 1), "<s>");
  assert.equal(tokenText(f, 2), "</s>");
  assert.equal(tokenText(f, 9999), "");
  assert.equal(tokenText(f, undefined), "");
  assert.equal(chatTemplate(f), undefined);
  assert.deepEqual(f.tensors[0], { name: "token_embd.weight", type: GgmlType.F32, shape: [64, 512], offset: 0 });
  assert.deepEqual(tensorsInfo(f)[0], { name: "token_embd.weight", type: "F32", shape: [64, 512] });
  // The last tensor's data ends exactly at the end of the file.
  const last = f.tensors.reduce((a, b) => (b.offset > a.offset ? b : a));
  assert.equal(f.dataOffset + last.offset + last.shape.reduce((a, b) => a * b, 1) * 4, f.fileSize);
});

test("stories260K: model_info", async () => {
  const f = await readGguf(STORIES);
  const info = modelInfo(f, false);
  assert.deepEqual(Object.keys(info), Object.keys(info).sort());
  assert.equal(info["general.name"], undefined);
  assert.equal("general.name" in info, false);
  assert.equal(info["general.architecture"], "llama");
  assert.equal(info["general.parameter_count"], 292800);
  assert.equal(info["tokenizer.ggml.tokens"], null);
  assert.equal(info["tokenizer.ggml.scores"], null);
  assert.equal(info["llama.attention.layer_norm_rms_epsilon"], 0.00001); // float32 printed shortest, like Go
  assert.equal(info["tokenizer.ggml.padding_token_id"], 4294967295);
  assert.equal(Object.keys(info).length, 19); // 19 KVs - general.name + general.parameter_count
  const verbose = modelInfo(f, true);
  assert.equal((verbose["tokenizer.ggml.tokens"] as string[]).length, 512);
  assert.equal((verbose["tokenizer.ggml.tokens"] as string[])[1], "<s>");
  assert.equal((verbose["tokenizer.ggml.token_type"] as number[]).length, 512);
});

test("mmproj: clip arch with Q8_0 tensors", async () => {
  const f = await readGguf(MMPROJ);
  assert.equal(architecture(f), "clip");
  assert.equal(f.tensors.length, 71);
  assert.equal(f.metadata.size, 20);
  const types = tensorsInfo(f).map((t) => t.type);
  assert.equal(types.filter((t) => t === "Q8_0").length, 24);
  assert.equal(types.filter((t) => t === "F32").length, 46);
  assert.equal(types.filter((t) => t === "F16").length, 1);
  assert.equal(fileTypeName(f), "Q8_0");
  assert.equal(f.metadata.get("clip.has_vision_encoder")!.value, true);
  const info = modelInfo(f, false);
  assert.equal(info["general.tags"], null);
  assert.equal(info["clip.vision.attention.layer_norm_epsilon"], 0.000001);
  assert.deepEqual(modelInfo(f, true)["clip.vision.image_mean"], [0.5, 0.5, 0.5]);
});

test("vocab-only files: 0 tensors, tokenizer metadata", async () => {
  const phi3 = await readGguf(join(MODELS, "vocab/ggml-vocab-phi-3.gguf"));
  assert.equal(phi3.tensors.length, 0);
  assert.equal(phi3.metadata.size, 26);
  assert.equal(architecture(phi3), "phi3");
  assert.equal(fileTypeName(phi3), "F16");
  assert.equal(parameterCount(phi3), 0);
  assert.match(chatTemplate(phi3)!, /<\|assistant\|>/);
  assert.equal(modelInfo(phi3, false)["tokenizer.chat_template"], undefined);
  assert.equal((phi3.metadata.get("tokenizer.ggml.tokens")!.value as string[]).length, 32064);

  const ds = await readGguf(join(MODELS, "vocab/ggml-vocab-deepseek-llm.gguf"));
  assert.equal((ds.metadata.get("tokenizer.ggml.tokens")!.value as string[]).length, 102400);
  assert.equal(ds.tensors.length, 0);
});

test("humanNumber follows Go's format.HumanNumber", () => {
  const cases: [number, string][] = [
    [0, "0"], [999, "999"], [1000, "1K"], [2500, "2K"] /* %.0f rounds half to even */, [3500, "4K"],
    [292800, "293K"], [1_000_000, "1M"], [1_500_000, "1.50M"], [1_125_000, "1.12M"], [7_000_000_000, "7B"],
    [8_030_000_000, "8.0B"], [3_210_000_000, "3.2B"], [8_250_000_000, "8.2B"], [70_553_706_496, "70.6B"],
  ];
  for (const [n, s] of cases) assert.equal(humanNumber(n), s, String(n));
});

test("hand-made headers: v2, nested arrays, u64 as bigint", () => withDir(async (dir) => {
  const nested = Buffer.concat([u32(T.ARRAY), u64(2), u32(T.UINT16), u64(2), Buffer.from([1, 0, 2, 0]), u32(T.UINT16), u64(0)]);
  const bytes = header(2, 0, [
    kv("general.architecture", T.STRING, str("test")),
    kv("big", T.UINT64, u64(2n ** 60n + 3n)),
    kv("small", T.INT64, u64(-5n & (2n ** 64n - 1n))),
    kv("nested", T.ARRAY, nested),
    kv("general.file_type", T.UINT32, u32(15)),
  ]);
  const path = join(dir, "v2.gguf");
  await writeFile(path, bytes);
  const f = await readGguf(path);
  assert.equal(f.version, 2);
  assert.equal(f.metadata.get("big")!.value, 2n ** 60n + 3n);
  assert.equal(f.metadata.get("small")!.value, -5);
  const n = f.metadata.get("nested")!;
  assert.equal(n.arrayType, T.ARRAY);
  assert.deepEqual(n.value, [{ type: T.ARRAY, arrayType: T.UINT16, value: [1, 2] }, { type: T.ARRAY, arrayType: T.UINT16, value: [] }]);
  assert.deepEqual(modelInfo(f, true)["nested"], [[1, 2], []]);
  assert.equal(modelInfo(f, false)["nested"], null);
  assert.equal(modelInfo(f, true)["big"], Number(2n ** 60n + 3n));
  assert.equal(fileTypeName(f), "Q4_K_M");
}));

test("errors: not GGUF, bad version, truncation, absurd lengths, data past EOF", () => withDir(async (dir) => {
  const at = async (name: string, bytes: Buffer) => { const p = join(dir, name); await writeFile(p, bytes); return p; };
  const rejects = (p: string, re: RegExp) => assert.rejects(readGguf(p), (e: unknown) => e instanceof GgufError && re.test(e.message));

  await rejects(await at("text.gguf", Buffer.from("hello, this is not a model file at all")), /not a GGUF file/);
  await rejects(await at("empty.gguf", Buffer.alloc(0)), /not a GGUF file/);
  await rejects(await at("v1.gguf", header(1, 0, [])), /unsupported GGUF version 1/);
  await rejects(await at("be.gguf", header(0x03000000, 0, [])), /unsupported GGUF version.*big-endian/);

  const stories = await readFile(STORIES);
  await rejects(await at("trunc-meta.gguf", stories.subarray(0, 5000)), /truncated/);
  await rejects(await at("trunc-tiny.gguf", stories.subarray(0, 10)), /truncated/);
  await rejects(await at("trunc-data.gguf", stories.subarray(0, stories.length - 100)), /past the end/);

  await rejects(await at("strlen.gguf", header(3, 0, [Buffer.concat([u64(2n ** 40n), Buffer.alloc(32)])])), /string length .* exceeds/);
  await rejects(await at("strlen-huge.gguf", header(3, 0, [Buffer.concat([u64(2n ** 63n), Buffer.alloc(32)])])), /string length .* exceeds/);
  await rejects(await at("arrlen.gguf", header(3, 0, [kv("a", T.ARRAY, Buffer.concat([u32(T.UINT32), u64(1_000_000)]))])), /array length of a .* exceeds/);
  await rejects(await at("kvcount.gguf", (() => { const b = header(3, 0, []); b.writeBigUInt64LE(10n ** 12n, 16); return b; })()), /metadata count .* exceeds/);
  await rejects(await at("tcount.gguf", header(3, 2n ** 62n, [])), /tensor count .* exceeds/);
  await rejects(await at("type.gguf", header(3, 0, [kv("a", 99 as T, u32(1))])), /unknown value type/);
  await rejects(await at("dup.gguf", header(3, 0, [kv("a", T.UINT8, Buffer.from([1])), kv("a", T.UINT8, Buffer.from([2]))])), /duplicate key/);

  // One F32 tensor of 1000 elements claimed, but no data follows the header.
  const tensor = Buffer.concat([str("w"), u32(1), u64(1000), u32(GgmlType.F32), u64(0)]);
  await rejects(await at("nodata.gguf", Buffer.concat([header(3, 1, []), tensor])), /tensor w extends past the end/);
  const dims = Buffer.concat([str("w"), u32(5), u64(1), u64(1), u64(1), u64(1), u64(1), u32(GgmlType.F32), u64(0)]);
  await rejects(await at("dims.gguf", Buffer.concat([header(3, 1, []), dims])), /5 dimensions/);
}));
