// Request bodies that are too large, endless or stalled are cut off with Ollama-shaped errors, and
// the client reliably reads the error instead of a reset connection.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readdir } from "node:fs/promises";
import { request, type IncomingMessage } from "node:http";
import { join } from "node:path";
import { startTestServer, type TestServer } from "./support/server.js";

const LIMIT = 1 << 20;
let srv: TestServer;
before(async () => (srv = await startTestServer({ CORRAL_MAX_JSON_BODY: String(LIMIT), CORRAL_BODY_IDLE_TIMEOUT: "1s" })));
after(async () => srv?.stop());

interface Answer {
  status: number;
  json: { error?: string };
}

function readAnswer(res: IncomingMessage): Promise<Answer> {
  return new Promise((resolve, reject) => {
    let text = "";
    res.setEncoding("utf8");
    res.on("data", (d) => (text += d));
    res.on("end", () => resolve({ status: res.statusCode!, json: text ? JSON.parse(text) : {} }));
    res.on("error", reject);
  });
}

/** Opens a POST and hands back the request (to write to) and its answer. */
function open(path: string, headers: Record<string, string | number>) {
  const req = request({ host: "127.0.0.1", port: srv.port, method: "POST", path, headers });
  const answer = new Promise<Answer>((resolve, reject) => {
    req.on("response", (res) => readAnswer(res).then(resolve, reject));
    req.on("error", reject);
  });
  req.flushHeaders();
  return { req, answer };
}

test("a Content-Length over the limit is refused at once, before any body is sent", async () => {
  const { req, answer } = open("/api/chat", { "content-length": LIMIT + 1 });
  const res = await answer;
  req.destroy();
  assert.deepEqual(res, { status: 413, json: { error: `request body too large (limit ${LIMIT} bytes)` } });
});

test("an endless chunked body is refused as soon as it passes the limit", async () => {
  const { req, answer } = open("/api/generate", { "transfer-encoding": "chunked" });
  let answered = false;
  void answer.then(() => (answered = true), () => {});
  let sent = 0;
  const chunk = Buffer.alloc(64 * 1024, 0x20);
  // The client keeps sending until it sees the answer: the server must not wait for an end.
  while (!answered && sent < 256 * LIMIT) {
    sent += chunk.length;
    if (!req.write(chunk)) await Promise.race([new Promise((r) => req.once("drain", r)), answer.catch(() => {})]);
  }
  const res = await answer;
  req.destroy();
  assert.equal(res.status, 413);
  assert.equal(res.json.error, `request body too large (limit ${LIMIT} bytes)`);
  assert.ok(sent < 256 * LIMIT, "answered while the body was still coming");
});

test("a reply given before the body was read (a refused origin, a bad digest) ends an endless body's connection", { timeout: 60_000 }, async () => {
  for (const [path, status, origin] of [["/api/chat", 403, "https://evil.example"], ["/api/blobs/sha256:nothex", 400, ""]] as const) {
    const { req, answer } = open(path, { "transfer-encoding": "chunked", ...(origin ? { origin } : {}) });
    const closed = new Promise<void>((resolve) => req.on("close", resolve));
    let done = false;
    void closed.then(() => (done = true));
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    // Keep sending until the server closes the connection; kept alive it would read forever.
    while (!done) {
      if (!req.write(chunk)) await Promise.race([new Promise((r) => req.once("drain", r)), closed]);
    }
    const res = await answer.catch((e: Error) => ({ status: 0, json: { error: e.message } }));
    assert.equal(res.status, status, path);
  }
});

test("a body that stops arriving is answered 408 after the idle timeout", async () => {
  const { req, answer } = open("/api/chat", { "content-length": 100 });
  req.write('{"model":');
  const res = await answer;
  req.destroy();
  assert.equal(res.status, 408);
  assert.match(res.json.error ?? "", /^request body timed out/);
});

test("oversized bodies get their 413, not a reset, every time", async () => {
  for (const size of [2 * LIMIT, 100 * LIMIT]) {
    const body = Buffer.alloc(size, 0x20);
    for (let i = 0; i < (size > 10 * LIMIT ? 5 : 30); i++) {
      const res = await fetch(`${srv.url}/api/chat`, { method: "POST", body });
      assert.equal(res.status, 413, `try ${i} of ${size} bytes`);
      assert.deepEqual(await res.json(), { error: `request body too large (limit ${LIMIT} bytes)` });
    }
  }
  assert.equal((await fetch(`${srv.url}/api/version`)).status, 200);
});

test("a stalled blob upload is answered 408 and leaves no file in the store", async () => {
  const data = Buffer.alloc(3 << 20, 7);
  const digest = `sha256:${createHash("sha256").update(data).digest("hex")}`;
  const { req, answer } = open(`/api/blobs/${digest}`, { "content-length": data.length });
  req.write(data.subarray(0, 2 << 20));
  const res = await answer;
  req.destroy();
  assert.equal(res.status, 408);
  assert.match(res.json.error ?? "", /^request body timed out/);
  assert.deepEqual(await readdir(join(srv.models, "blobs")), []);
  // A blob upload has no size limit: the same bytes sent in full are stored.
  const ok = await fetch(`${srv.url}/api/blobs/${digest}`, { method: "POST", body: data });
  assert.equal(ok.status, 201);
});
