// zstd-compressed bodies on POST /v1/responses (Content-Encoding: zstd, as the Codex client sends):
// a real compressed request, multi-frame bodies, and the limits that keep a tiny body from costing
// the server gigabytes (decompressed size, window size, declared size).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { createFromGguf, postJson, startTestServer, STORIES, type TestServer } from "./support/server.js";
import { declaredSizeFrame, rawFrame, rleFrame, skippableFrame, wideWindowFrame } from "./support/zstd.js";

let srv: TestServer;
before(async () => {
  srv = await startTestServer();
  await createFromGguf(srv.url, "stories", STORIES);
});
after(() => srv.stop());

const LIMIT = 20 * 1024 * 1024;

// `zstd -19` of {"model":"stories","input":"Once upon a time","temperature":0,"max_output_tokens":8,
// "metadata":{"pad":"compress me " x 400}}: 4906 bytes in one compressed (entropy-coded) block.
const COMPRESSED = Buffer.from(
  "KLUv/WQqEvUCAGIHFRGg7ZCzGvziuVoFUJ8fF6n/wrUeMAMxMnzMnZOjfafk24u2mT0M8thYuTYtX0tn5rIHQc5Q9kJ+jPvhzFKDBc09Cfi0cvKWr6WHR07QdTz5YuTYaQEAc6y8L1E6BMHp",
  "base64",
);
const PLAIN = { model: "stories", input: "Once upon a time", temperature: 0, max_output_tokens: 8 };

async function postZstd(body: Buffer) {
  const res = await fetch(`${srv.url}/v1/responses`, {
    method: "POST",
    headers: { "Content-Type": "application/json", "Content-Encoding": "zstd" },
    body,
  });
  const text = await res.text();
  return { status: res.status, json: JSON.parse(text), text };
}

const textOf = (r: { output: { type: string; content?: { text: string }[] }[] }) =>
  r.output.filter((o) => o.type === "message").map((o) => o.content![0]!.text).join("");

test("a zstd-compressed request is answered like the same request sent plain", async () => {
  const plain = await postJson(srv.url, "/v1/responses", PLAIN);
  assert.equal(plain.status, 200, plain.text);
  const zstd = await postZstd(COMPRESSED);
  assert.equal(zstd.status, 200, zstd.text);
  assert.equal(zstd.json.object, "response");
  assert.equal(zstd.json.usage.output_tokens, 8);
  assert.equal(textOf(zstd.json), textOf(plain.json));
});

test("a body in several frames, with a skippable frame among them, is read whole", async () => {
  const json = Buffer.from(JSON.stringify(PLAIN));
  const body = Buffer.concat([skippableFrame(Buffer.from("client metadata")), rawFrame(json.subarray(0, 20)), rawFrame(json.subarray(20))]);
  const res = await postZstd(body);
  assert.equal(res.status, 200, res.text);
  assert.equal(res.json.usage.output_tokens, 8);
});

test("a small body that decompresses past 20 MiB is refused with 413, and the server carries on", async () => {
  const bomb = rleFrame(0x20, Math.ceil(LIMIT / (128 * 1024)) + 1);
  assert.ok(bomb.length < 1024);
  const res = await postZstd(bomb);
  assert.equal(res.status, 413);
  assert.deepEqual(res.json, {
    error: { message: `decompressed request body too large (limit ${LIMIT} bytes)`, type: "api_error", param: null, code: null },
  });
  // Just under the limit is decompressed (and then is not a request: all spaces).
  const under = await postZstd(rleFrame(0x20, 8));
  assert.equal(under.status, 400);
  assert.equal((await postJson(srv.url, "/v1/responses", PLAIN)).status, 200);
});

test("frame headers asking for a huge window or declaring a huge size are refused before decoding", async () => {
  for (const frame of [wideWindowFrame(31), wideWindowFrame(25), declaredSizeFrame(LIMIT + 1), declaredSizeFrame(2 ** 40)]) {
    const res = await postZstd(frame);
    assert.equal(res.status, 413, res.text);
    assert.match(res.json.error.message, /^decompressed request body too large/);
  }
  // A window the limit allows is fine.
  const ok = await postZstd(Buffer.concat([wideWindowFrame(20).subarray(0, 6), rawFrame(Buffer.from(JSON.stringify(PLAIN))).subarray(6)]));
  assert.equal(ok.status, 200, ok.text);
});

test("corrupt or truncated zstd is a 400 in OpenAI's error shape", async () => {
  const bad = { error: { message: "failed to decompress zstd body", type: "invalid_request_error", param: null, code: null } };
  for (const body of [
    Buffer.from(JSON.stringify(PLAIN)), // not zstd at all
    COMPRESSED.subarray(0, COMPRESSED.length - 20), // truncated
    Buffer.concat([COMPRESSED.subarray(0, 12), Buffer.alloc(60, 0xff), COMPRESSED.subarray(72)]), // scrambled block
  ]) {
    const res = await postZstd(body);
    assert.equal(res.status, 400, res.text);
    assert.deepEqual(res.json, bad);
  }
});
