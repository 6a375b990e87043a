// Crafted safetensors headers through /api/create's safetensors path: each is a 400 naming the fault,
// quickly and without allocating what the header claims, and nothing is stored.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { assertNothingStored, uploadBytes } from "./support/blob-upload.js";
import { postJson, SHARED, startTestServer, type TestServer } from "./support/server.js";

let srv: TestServer;
let config: string;
before(async () => {
  srv = await startTestServer();
  config = await uploadBytes(srv.url, await readFile(join(SHARED, "models/safetensors/tiny-random-gpt2/config.json")));
});
after(async () => srv?.stop());

/** An 8-byte little-endian header length (as given), the header text, then `data` bytes. */
function st(header: string, data = 0, length: bigint = BigInt(Buffer.byteLength(header))): Buffer {
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(length);
  return Buffer.concat([len, Buffer.from(header), Buffer.alloc(data)]);
}
const t = (dtype: string, shape: number[], offs: number[]) => ({ dtype, shape, data_offsets: offs });

const cases: [string, Buffer, RegExp][] = [
  ["shorter than the length", Buffer.from([1, 2, 3]), /shorter than its 8-byte header length/],
  ["huge header length", st("{}", 0, 2n ** 62n), /header length .* does not fit/],
  ["header length past EOF", st("{}", 0, 4096n), /header length .* does not fit/],
  ["header not JSON", st("{not json"), /header is not JSON/],
  ["header a JSON array", st("[1,2]"), /not a JSON object/],
  ["offsets past the end", st(JSON.stringify({ w: t("F32", [4], [0, 16]) }), 8), /past the end of the data/],
  ["offsets huge", st(JSON.stringify({ w: t("F32", [2 ** 50], [0, 2 ** 52]) }), 8), /past the end of the data|data_offsets/],
  ["overlapping ranges", st(JSON.stringify({ a: t("F32", [4], [0, 16]), b: t("F32", [4], [8, 24]) }), 24), /overlap/],
  ["unknown dtype", st(JSON.stringify({ w: t("F128", [1], [0, 16]) }), 16), /unknown dtype "F128"/],
  ["size disagrees with shape", st(JSON.stringify({ w: t("F32", [4], [0, 8]) }), 16), /needs 16/],
  ["negative shape", st(JSON.stringify({ w: t("F32", [-4], [0, 16]) }), 16), /invalid shape/],
  ["inverted offsets", st(JSON.stringify({ w: t("F32", [0], [16, 0]) }), 16), /invalid data_offsets/],
];

test("crafted safetensors headers are refused with 400 and the reason", async () => {
  for (const [what, bytes, reason] of cases) {
    const weights = await uploadBytes(srv.url, bytes);
    const res = await postJson(srv.url, "/api/create", {
      model: "crafted-st", files: { "config.json": config, "model.safetensors": weights }, stream: false,
    });
    assert.equal(res.status, 400, `${what}: ${res.text}`);
    assert.match(res.json.error, /model\.safetensors/, what);
    assert.match(res.json.error, reason, what);
  }
  await assertNothingStored(srv);
});
