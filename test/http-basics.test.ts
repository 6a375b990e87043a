// The HTTP surface that needs no model: root, version, routing errors, body decoding, CORS, host check.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { postJson, startTestServer, type TestServer } from "./support/server.js";

let srv: TestServer;
before(async () => {
  srv = await startTestServer({ OLLAMA_ORIGINS: "https://app.example.com" });
});
after(() => srv.stop());

test("GET and HEAD / answer 'Ollama is running'", async () => {
  const res = await fetch(srv.url);
  assert.equal(res.status, 200);
  assert.equal(await res.text(), "Ollama is running");
  assert.match(res.headers.get("content-type") ?? "", /text\/plain/);
  const head = await fetch(srv.url, { method: "HEAD" });
  assert.equal(head.status, 200);
});

test("GET /api/version returns a semver", async () => {
  const { status, json } = await postJson(srv.url, "/api/version", undefined, "GET");
  assert.equal(status, 200);
  assert.match(json.version, /^\d+\.\d+\.\d+/);
});

test("unknown routes are 404 text, known routes with the wrong method 405 text", async () => {
  const nf = await fetch(`${srv.url}/api/nope`);
  assert.equal(nf.status, 404);
  assert.equal(await nf.text(), "404 page not found");
  const wm = await fetch(`${srv.url}/api/generate`);
  assert.equal(wm.status, 405);
  assert.equal(await wm.text(), "405 method not allowed");
});

test("bodies are JSON whatever the Content-Type, with Go's decoder errors", async () => {
  // curl's default form content type still decodes as JSON.
  const form = await fetch(`${srv.url}/api/show`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: JSON.stringify({ model: "missing-model" }),
  });
  assert.equal(form.status, 404);
  assert.deepEqual(await form.json(), { error: "model 'missing-model:latest' not found" });

  const empty = await postJson(srv.url, "/api/chat", "");
  assert.equal(empty.status, 400);
  assert.deepEqual(empty.json, { error: "missing request body" });

  const bad = await postJson(srv.url, "/api/generate", "xyz");
  assert.equal(bad.status, 400);
  assert.equal(bad.json.error, "invalid character 'x' looking for beginning of value");

  const truncated = await postJson(srv.url, "/api/generate", '{"model": "a"');
  assert.equal(truncated.status, 400);
  assert.equal(truncated.json.error, "unexpected EOF");

  const wrongType = await postJson(srv.url, "/api/generate", { model: "a", prompt: 5 });
  assert.equal(wrongType.status, 400);
  assert.equal(wrongType.json.error, "json: cannot unmarshal number into Go struct field GenerateRequest.prompt of type string");

  const wrongStream = await postJson(srv.url, "/api/chat", { model: "a", stream: "yes" });
  assert.equal(wrongStream.json.error, "json: cannot unmarshal string into Go struct field ChatRequest.stream of type bool");

  const notObject = await postJson(srv.url, "/api/chat", "[1,2]");
  assert.equal(notObject.json.error, "json: cannot unmarshal array into Go value of type api.ChatRequest");

  // null decodes to an empty request; trailing bytes after the first value are ignored.
  const nul = await postJson(srv.url, "/api/chat", "null");
  assert.deepEqual([nul.status, nul.json], [400, { error: "model is required" }]);
  const trailing = await postJson(srv.url, "/api/chat", '{"model":""} garbage');
  assert.deepEqual([trailing.status, trailing.json], [400, { error: "model is required" }]);
});

test("keep_alive and think values are checked like Ollama", async () => {
  const bare = await postJson(srv.url, "/api/generate", { model: "a", keep_alive: "10" });
  assert.deepEqual([bare.status, bare.json.error], [400, 'time: missing unit in duration "10"']);
  const boolean = await postJson(srv.url, "/api/generate", { model: "a", keep_alive: true });
  assert.deepEqual([boolean.status, boolean.json.error], [400, "Unsupported type: 'bool'"]);
  const think = await postJson(srv.url, "/api/chat", { model: "a", think: "extreme" });
  assert.equal(think.status, 400);
  assert.match(think.json.error, /^invalid think value: "extreme"/);
  const logprobs = await postJson(srv.url, "/api/chat", { model: "a", top_logprobs: 21 });
  assert.deepEqual([logprobs.status, logprobs.json.error], [400, "top_logprobs must be between 0 and 20"]);
});

test("an oversized JSON body is refused with 413 and a JSON error", async () => {
  const big = Buffer.alloc(257 * 1024 * 1024, 0x20);
  const res = await fetch(`${srv.url}/api/generate`, { method: "POST", body: big });
  assert.equal(res.status, 413);
  assert.match(((await res.json()) as { error: string }).error, /request body too large/);
});

test("CORS: default and configured origins are allowed, others refused", async () => {
  const local = await fetch(`${srv.url}/api/version`, { headers: { origin: "http://localhost:3000" } });
  assert.equal(local.status, 200);
  assert.equal(local.headers.get("access-control-allow-origin"), "http://localhost:3000");
  const configured = await fetch(`${srv.url}/api/version`, { headers: { origin: "https://app.example.com" } });
  assert.equal(configured.headers.get("access-control-allow-origin"), "https://app.example.com");
  const evil = await fetch(`${srv.url}/api/version`, { headers: { origin: "https://evil.example" } });
  assert.equal(evil.status, 403);
  const preflight = await fetch(`${srv.url}/api/chat`, {
    method: "OPTIONS",
    headers: { origin: "http://127.0.0.1:5173", "access-control-request-method": "POST" },
  });
  assert.equal(preflight.status, 204);
  assert.match(preflight.headers.get("access-control-allow-headers") ?? "", /x-stainless-os/);
});

test("a loopback server refuses foreign Host headers (DNS rebinding)", async () => {
  const { request } = await import("node:http");
  const status = (host: string) =>
    new Promise<number>((resolve, reject) => {
      const req = request({ host: "127.0.0.1", port: srv.port, path: "/api/version", headers: { host } }, (res) => {
        res.resume();
        resolve(res.statusCode!);
      });
      req.on("error", reject);
      req.end();
    });
  assert.equal(await status("evil.example.com"), 403);
  assert.equal(await status("localhost:11434"), 200);
  assert.equal(await status("myhost.local"), 200);
  assert.equal(await status("192.168.1.5"), 200);
});
