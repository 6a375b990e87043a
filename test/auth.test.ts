// API keys: the official ollama, openai and Anthropic clients with and without a key, each API
// family's 401 shape, the open liveness routes, CORS preflights, the keys file reloading, the CLI's
// key, and the warning for an exposed server without keys.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Anthropic from "@anthropic-ai/sdk";
import { Ollama } from "ollama";
import OpenAI from "openai";
import { runCli } from "./support/cli.js";
import { startTestServer, type TestServer } from "./support/server.js";

const KEY = "k-first-0123456789";
const OTHER = "k-second-abcdef";

let srv: TestServer;
before(async () => {
  srv = await startTestServer({ CORRAL_API_KEYS: `${KEY}, ${OTHER}`, OLLAMA_ORIGINS: "https://app.example.com" });
});
after(() => srv.stop());

const get = (path: string, headers: Record<string, string> = {}) => fetch(`${srv.url}${path}`, { headers });

test("GET/HEAD / and /health answer without a key", async () => {
  const root = await get("/");
  assert.equal(root.status, 200);
  assert.equal(await root.text(), "Ollama is running");
  assert.equal((await fetch(srv.url, { method: "HEAD" })).status, 200);
  const health = await get("/health");
  assert.equal(health.status, 200);
  assert.deepEqual(await health.json(), { status: "ok" });
  assert.equal((await fetch(`${srv.url}/health`, { method: "HEAD" })).status, 200);
});

test("native routes want a Bearer key and answer 401 {error: unauthorized} without one", async () => {
  const attempts: Record<string, string>[] = [{}, { authorization: "Bearer wrong" }, { authorization: KEY }, { "x-api-key": KEY }];
  for (const headers of attempts) {
    const res = await get("/api/tags", headers);
    assert.equal(res.status, 401, JSON.stringify(headers));
    assert.deepEqual(await res.json(), { error: "unauthorized" });
  }
  assert.equal((await get("/api/tags", { authorization: `Bearer ${KEY}` })).status, 200);
  assert.equal((await get("/api/version", { authorization: `bearer ${OTHER}` })).status, 200);
  assert.equal((await get("/ready")).status, 401);
  assert.equal((await get("/ready", { authorization: `Bearer ${KEY}` })).status, 200);
});

test("the ollama client works with the key and gets 401 without it or with a wrong one", async () => {
  const ok = new Ollama({ host: srv.url, headers: { Authorization: `Bearer ${KEY}` } });
  assert.deepEqual((await ok.list()).models, []);
  for (const headers of [{}, { Authorization: "Bearer nope" }]) {
    const client = new Ollama({ host: srv.url, headers });
    await assert.rejects(client.list(), (e: { status_code?: number; error?: string }) => {
      assert.equal(e.status_code, 401);
      assert.equal(e.error, "unauthorized");
      return true;
    });
  }
});

test("the openai client works with the key; without it, 401 in OpenAI's shape", async () => {
  const ok = new OpenAI({ baseURL: `${srv.url}/v1`, apiKey: KEY, maxRetries: 0 });
  assert.deepEqual((await ok.models.list()).data, []);
  const bad = new OpenAI({ baseURL: `${srv.url}/v1`, apiKey: "nope", maxRetries: 0 });
  await assert.rejects(bad.models.list(), (e: unknown) => {
    assert.ok(e instanceof OpenAI.AuthenticationError);
    assert.equal(e.status, 401);
    assert.equal(e.code, "invalid_api_key");
    return true;
  });
  const raw = await get("/v1/models");
  assert.equal(raw.status, 401);
  const body = (await raw.json()) as { error: Record<string, unknown> };
  assert.deepEqual({ ...body.error, message: undefined }, { message: undefined, type: "invalid_request_error", param: null, code: "invalid_api_key" });
  assert.match(String(body.error.message), /API key/);
});

test("the Anthropic client sends x-api-key and gets past the check; a wrong key is Anthropic's 401", async () => {
  const ok = new Anthropic({ baseURL: srv.url, apiKey: KEY, maxRetries: 0 });
  const ask = (c: Anthropic) => c.messages.create({ model: "absent", max_tokens: 8, messages: [{ role: "user", content: "hi" }] });
  // Past the key check the request fails on the model, not on auth.
  await assert.rejects(ask(ok), (e: unknown) => e instanceof Anthropic.NotFoundError);
  const bad = new Anthropic({ baseURL: srv.url, apiKey: "nope", maxRetries: 0 });
  await assert.rejects(ask(bad), (e: unknown) => {
    assert.ok(e instanceof Anthropic.AuthenticationError);
    assert.equal(e.status, 401);
    return true;
  });
  const raw = await fetch(`${srv.url}/v1/messages`, { method: "POST", body: "{}" });
  assert.equal(raw.status, 401);
  const body = (await raw.json()) as { type: string; error: { type: string; message: string } };
  assert.equal(body.type, "error");
  assert.equal(body.error.type, "authentication_error");
  assert.match(body.error.message, /x-api-key/);
  // Bearer works there too.
  const bearer = await fetch(`${srv.url}/v1/messages`, { method: "POST", headers: { authorization: `Bearer ${KEY}` }, body: "{}" });
  assert.notEqual(bearer.status, 401);
});

test("CORS preflights need no key", async () => {
  const res = await fetch(`${srv.url}/api/chat`, {
    method: "OPTIONS",
    headers: { origin: "https://app.example.com", "access-control-request-method": "POST", "access-control-request-headers": "authorization" },
  });
  assert.equal(res.status, 204);
  assert.equal(res.headers.get("access-control-allow-origin"), "https://app.example.com");
  assert.match(res.headers.get("access-control-allow-headers") ?? "", /Authorization/);
});

test("the CLI sends CORRAL_API_KEY (or OLLAMA_API_KEY) and says what to do without one", async () => {
  const withKey = await runCli(srv.url, ["list"], { env: { CORRAL_API_KEY: KEY, OLLAMA_API_KEY: "" } });
  assert.equal(withKey.code, 0, withKey.stderr);
  assert.match(withKey.stdout, /^NAME\s+ID\s+SIZE\s+MODIFIED/);
  const fallback = await runCli(srv.url, ["list"], { env: { CORRAL_API_KEY: "", OLLAMA_API_KEY: OTHER } });
  assert.equal(fallback.code, 0, fallback.stderr);
  const without = await runCli(srv.url, ["list"], { env: { CORRAL_API_KEY: "", OLLAMA_API_KEY: "" } });
  assert.equal(without.code, 1);
  assert.match(without.stderr, /^Error: unauthorized: the server needs an API key; set CORRAL_API_KEY/);
  const wrong = await runCli(srv.url, ["list"], { env: { CORRAL_API_KEY: "nope" } });
  assert.equal(wrong.code, 1);
  assert.match(wrong.stderr, /CORRAL_API_KEY/);
});

test("a keys file: comments and blanks skipped, re-read when it changes and on SIGHUP", async () => {
  const dir = await mkdtemp(join(tmpdir(), "corral-keys-"));
  const file = join(dir, "keys");
  await writeFile(file, "# team keys\n\nalpha-key\n  beta-key  \n");
  const s = await startTestServer({ CORRAL_API_KEYS_FILE: file });
  try {
    const status = async (key: string) => (await fetch(`${s.url}/api/tags`, { headers: { authorization: `Bearer ${key}` } })).status;
    assert.equal(await status("alpha-key"), 200);
    assert.equal(await status("beta-key"), 200);
    assert.equal(await status("# team keys"), 401);

    // A changed file is picked up on the next request.
    const fixed = 1_700_000_000; // whole seconds, so the mtime set back below is exactly the same
    await writeFile(file, "gamma-key\n");
    await utimes(file, fixed, fixed);
    assert.equal(await status("alpha-key"), 401);
    assert.equal(await status("gamma-key"), 200);

    // Same inode, size and mtime (so no change is seen): only SIGHUP re-reads it.
    await writeFile(file, "delta-key\n");
    await utimes(file, fixed, fixed);
    assert.equal(await status("gamma-key"), 200, "the unchanged-looking file is not re-read");
    s.proc.kill("SIGHUP");
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(await status("gamma-key"), 401);
    assert.equal(await status("delta-key"), 200);
    assert.equal(s.proc.exitCode, null, "SIGHUP does not stop the server");
  } finally {
    await s.stop();
    await rm(dir, { recursive: true, force: true });
  }
});

test("binding a non-loopback address without keys warns once on stderr; with keys it does not", async () => {
  const open = await startTestServer({}, { bind: "0.0.0.0" });
  const keyed = await startTestServer({ CORRAL_API_KEYS: KEY }, { bind: "0.0.0.0" });
  try {
    const warnings = open.output().split("\n").filter((l) => /^warning:/.test(l));
    assert.equal(warnings.length, 1, open.output());
    assert.match(warnings[0]!, /no API key.*CORRAL_API_KEYS/);
    assert.doesNotMatch(keyed.output(), /^warning:/m);
    assert.doesNotMatch(srv.output(), /^warning:/m);
  } finally {
    await open.stop();
    await keyed.stop();
  }
});
