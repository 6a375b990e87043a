// Request ids and the request log: X-Request-Id echoed (given or made), one JSON line per request on
// the server's stderr with the model and token counts where known, never a key; /ready's answers.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sha256File, STORIES, startTestServer, type TestServer } from "./support/server.js";

const KEY = "observe-secret-key-42";
const auth = { authorization: `Bearer ${KEY}` };
let srv: TestServer;
before(async () => {
  srv = await startTestServer({ CORRAL_API_KEYS: KEY });
});
after(() => srv.stop());

/** The server's JSON request lines so far. */
function logLines(): Record<string, unknown>[] {
  return srv
    .output()
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((l) => l.msg === "request");
}

async function lineFor(id: string): Promise<Record<string, unknown>> {
  // The line is written when the response closes, which can trail the client's read a little.
  for (let i = 0; i < 50; i++) {
    const found = logLines().filter((l) => l.request_id === id);
    if (found.length) {
      assert.equal(found.length, 1, "exactly one line per request");
      return found[0]!;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`no log line for ${id}:\n${srv.output()}`);
}

test("a client's X-Request-Id is echoed and logged; otherwise one is made", async () => {
  const given = await fetch(`${srv.url}/api/tags`, { headers: { ...auth, "x-request-id": "abc.DEF_123-x" } });
  assert.equal(given.status, 200);
  assert.equal(given.headers.get("x-request-id"), "abc.DEF_123-x");
  const line = await lineFor("abc.DEF_123-x");
  assert.equal(line.level, "info");
  assert.equal(line.method, "GET");
  assert.equal(line.route, "/api/tags");
  assert.equal(line.status, 200);
  assert.equal(typeof line.duration_ms, "number");
  assert.ok(!Number.isNaN(Date.parse(String(line.time))));

  const made = await fetch(`${srv.url}/`);
  const id = made.headers.get("x-request-id") ?? "";
  assert.match(id, /^[A-Za-z0-9._-]{1,128}$/);
  await lineFor(id);
  // Ids with other characters, or too long, are replaced rather than trusted.
  for (const bad of ["has space", "x".repeat(129), "new\\nline"]) {
    const res = await fetch(`${srv.url}/`, { headers: { "x-request-id": bad } });
    assert.notEqual(res.headers.get("x-request-id"), bad);
    assert.match(res.headers.get("x-request-id") ?? "", /^[A-Za-z0-9-]{36}$/);
  }
});

test("refusals carry the id too, and the log records the model a body names", async () => {
  const refused = await fetch(`${srv.url}/api/show`, { method: "POST", headers: { "x-request-id": "refused-1" }, body: '{"model":"m"}' });
  assert.equal(refused.status, 401);
  assert.equal(refused.headers.get("x-request-id"), "refused-1");
  assert.equal((await lineFor("refused-1")).status, 401);

  const show = await fetch(`${srv.url}/api/show`, { method: "POST", headers: { ...auth, "x-request-id": "show-1" }, body: '{"model":"absent"}' });
  assert.equal(show.status, 404);
  const line = await lineFor("show-1");
  assert.deepEqual([line.route, line.status, line.model], ["/api/show", 404, "absent"]);
});

test("a generation's line has the model and its token counts", async () => {
  const digest = `sha256:${await sha256File(STORIES)}`;
  const up = await fetch(`${srv.url}/api/blobs/${digest}`, { method: "POST", headers: auth, body: await readFile(STORIES) });
  assert.ok(up.status === 201 || up.status === 200, String(up.status));
  const post = (path: string, body: unknown, id?: string) =>
    fetch(`${srv.url}${path}`, { method: "POST", headers: { ...auth, ...(id ? { "x-request-id": id } : {}) }, body: JSON.stringify(body) });
  const created = await post("/api/create", { model: "stories", files: { "model.gguf": digest }, stream: false });
  assert.equal(created.status, 200, await created.text());
  const gen = await post("/api/generate", { model: "stories", prompt: "Once", stream: false, options: { num_predict: 4 } }, "gen-1");
  assert.equal(gen.status, 200);
  const body = (await gen.json()) as { prompt_eval_count: number; eval_count: number };
  const line = await lineFor("gen-1");
  assert.deepEqual([line.route, line.model], ["/api/generate", "stories"]);
  assert.equal(line.prompt_tokens, body.prompt_eval_count);
  assert.equal(line.eval_tokens, body.eval_count);
  assert.ok(body.eval_count > 0);
});

test("no key ever appears in the server's output", () => {
  assert.ok(logLines().length > 3);
  assert.ok(!srv.output().includes(KEY), srv.output());
});

test("/ready is 503 with a reason when no engine is usable, 200 otherwise", async () => {
  const ok = await fetch(`${srv.url}/ready`, { headers: auth });
  assert.equal(ok.status, 200);
  assert.deepEqual(await ok.json(), { status: "ready" });
  const cache = await mkdtemp(join(tmpdir(), "corral-empty-cache-"));
  const notReady = await startTestServer({ CORRAL_ENGINE: "llama-server", CORRAL_ENGINE_CACHE: cache });
  try {
    const res = await fetch(`${notReady.url}/ready`);
    assert.equal(res.status, 503);
    const body = (await res.json()) as { status: string; reason: string };
    assert.equal(body.status, "not ready");
    assert.match(body.reason, /corral engine build/);
    assert.equal((await fetch(`${notReady.url}/health`)).status, 200);
  } finally {
    await notReady.stop();
    await rm(cache, { recursive: true, force: true });
  }
});
