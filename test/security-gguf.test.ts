// Crafted GGUF files through /api/create: each is a 400 with the reader's reason, quickly and in
// bounded memory, with nothing stored, and the server keeps serving.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { GgmlType, GgufValueType as T } from "../src/gguf/types.js";
import { ggufBytes, header, kv, str, tensorInfo, u32, u64, validGguf } from "./support/gguf-bytes.js";
import { assertNothingStored, uploadBytes } from "./support/blob-upload.js";
import { postJson, startTestServer, type TestServer } from "./support/server.js";

let srv: TestServer;
before(async () => (srv = await startTestServer()));
after(async () => srv?.stop());

const F32 = GgmlType.F32;
const arch = kv("general.architecture", T.STRING, str("llama"));

const cases: [string, Buffer, RegExp][] = [
  ["truncated magic", Buffer.from("GGU"), /not a GGUF file/],
  ["truncated header", header(3, 0, []).subarray(0, 12), /truncated/],
  ["huge tensor count", header(3, 2n ** 63n, [arch]), /tensor count .* exceeds/],
  ["huge kv count", header(3, 0, [arch], 2n ** 60n), /metadata count .* exceeds/],
  ["huge key length", header(3, 0, [Buffer.concat([u64(2n ** 62n), Buffer.alloc(64)])]), /string length .* exceeds/],
  ["huge string value", header(3, 0, [Buffer.concat([str("k"), u32(T.STRING), u64(2n ** 40n), Buffer.alloc(64)])]), /string length .* exceeds/],
  ["array past the end", header(3, 0, [kv("a", T.ARRAY, Buffer.concat([u32(T.UINT64), u64(1_000_000_000)]))]), /array length of a .* exceeds/],
  ["string array past the end", header(3, 0, [kv("a", T.ARRAY, Buffer.concat([u32(T.STRING), u64(2n ** 50n)]))]), /array length of a .* exceeds/],
  ["unknown value type", header(3, 0, [kv("a", 77 as T, u32(1))]), /unknown value type/],
  ["tensor offset past EOF", ggufBytes([tensorInfo("w", [8], F32, 1 << 30)], Buffer.alloc(32)), /past the end/],
  ["tensor offset beyond 2^53", ggufBytes([tensorInfo("w", [8], F32, 2n ** 60n)], Buffer.alloc(32)), /offset .* too large/],
  ["shape overflow", ggufBytes([tensorInfo("w", [2 ** 40, 2 ** 40], F32, 0)], Buffer.alloc(32)), /past the end/],
  ["overlapping tensors", ggufBytes([tensorInfo("a", [8], F32, 0), tensorInfo("b", [8], F32, 16)], Buffer.alloc(64)), /overlap/],
  ["duplicate tensor names", ggufBytes([tensorInfo("a", [8], F32, 0), tensorInfo("a", [8], F32, 32)], Buffer.alloc(64)), /duplicate tensor/],
  ["unknown tensor type", ggufBytes([tensorInfo("w", [8], 4242, 0)], Buffer.alloc(32)), /unknown type 4242/],
  ["zero dimensions", ggufBytes([tensorInfo("w", [], F32, 0)], Buffer.alloc(32)), /0 dimensions/],
  ["bad alignment", ggufBytes([], Buffer.alloc(0), [arch, kv("general.alignment", T.UINT32, u32(3))]), /alignment/],
];

test("crafted GGUF headers are refused with 400 and the reason", async () => {
  for (const [what, bytes, reason] of cases) {
    const digest = await uploadBytes(srv.url, bytes);
    const res = await postJson(srv.url, "/api/create", { model: "crafted", files: { "model.gguf": digest }, stream: false });
    assert.equal(res.status, 400, `${what}: ${res.text}`);
    assert.match(res.json.error, /^supplied file was not in GGUF format: /, what);
    assert.match(res.json.error, reason, what);
  }
  await assertNothingStored(srv);
});

test("the same layout without the fault is accepted (the cases fail for their fault alone)", async () => {
  const digest = await uploadBytes(srv.url, validGguf());
  const res = await postJson(srv.url, "/api/create", { model: "fine", files: { "model.gguf": digest }, stream: false });
  assert.equal(res.status, 200, res.text);
});
