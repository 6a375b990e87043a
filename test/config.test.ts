// Environment parsing: OLLAMA_HOST forms, durations, booleans, and the default thread count.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { loadConfig, parseHost, physicalCores } from "../src/config.js";

test("OLLAMA_HOST accepts Ollama's forms", () => {
  assert.deepEqual(parseHost(undefined), { scheme: "http", host: "127.0.0.1", port: 11434 });
  assert.deepEqual(parseHost("0.0.0.0"), { scheme: "http", host: "0.0.0.0", port: 11434 });
  assert.deepEqual(parseHost("127.0.0.1:8080"), { scheme: "http", host: "127.0.0.1", port: 8080 });
  assert.deepEqual(parseHost(":9000"), { scheme: "http", host: "0.0.0.0", port: 9000 });
  assert.deepEqual(parseHost("[::1]:7000"), { scheme: "http", host: "::1", port: 7000 });
  assert.deepEqual(parseHost("http://example.local"), { scheme: "http", host: "example.local", port: 80 });
  assert.deepEqual(parseHost("https://example.local/path"), { scheme: "https", host: "example.local", port: 443 });
  assert.deepEqual(parseHost(' "localhost:1234" '), { scheme: "http", host: "localhost", port: 1234 });
  assert.deepEqual(parseHost("localhost:notaport"), { scheme: "http", host: "localhost", port: 11434 });
});

test("durations, booleans and integers parse like Ollama's envconfig", () => {
  const c = loadConfig({
    OLLAMA_KEEP_ALIVE: "10m", OLLAMA_NUM_PARALLEL: "4", OLLAMA_MAX_QUEUE: "junk", OLLAMA_DEBUG: "1",
    OLLAMA_ORIGINS: "https://a.example, chrome-extension://*", OLLAMA_MODELS: "/tmp/m",
  });
  assert.equal(c.keepAlive, 600_000);
  assert.equal(c.numParallel, 4);
  assert.equal(c.maxQueue, 512);
  assert.equal(c.debug, true);
  assert.deepEqual(c.origins, ["https://a.example", "chrome-extension://*"]);
  assert.equal(c.models, "/tmp/m");
  assert.equal(loadConfig({ OLLAMA_KEEP_ALIVE: "30" }).keepAlive, 30_000);
  assert.equal(loadConfig({ OLLAMA_KEEP_ALIVE: "-1" }).keepAlive, Infinity);
  assert.equal(loadConfig({ OLLAMA_KEEP_ALIVE: "nonsense" }).keepAlive, 300_000);
  assert.equal(loadConfig({ OLLAMA_DEBUG: "false" }).debug, false);
  assert.equal(loadConfig({}).models.endsWith("/.corral/models"), true);
});

test("the default thread count is the physical cores, not the logical ones", () => {
  const info = readFileSync("/proc/cpuinfo", "utf8");
  const cores = new Set(
    info.split(/\n\s*\n/).filter((b) => /core id/.test(b)).map((b) => `${/physical id\s*:\s*(\d+)/.exec(b)?.[1]}:${/core id\s*:\s*(\d+)/.exec(b)?.[1]}`),
  );
  const n = physicalCores();
  assert.ok(n >= 1);
  if (cores.size > 0) assert.ok(n <= cores.size);
});

test("request body limits: CORRAL_MAX_JSON_BODY bytes and CORRAL_BODY_IDLE_TIMEOUT duration", () => {
  const defaults = loadConfig({});
  assert.deepEqual([defaults.maxJsonBody, defaults.bodyIdleTimeout], [256 * 1024 * 1024, 30_000]);
  const set = loadConfig({ CORRAL_MAX_JSON_BODY: "1048576", CORRAL_BODY_IDLE_TIMEOUT: "2m" });
  assert.deepEqual([set.maxJsonBody, set.bodyIdleTimeout], [1 << 20, 120_000]);
  assert.equal(loadConfig({ CORRAL_BODY_IDLE_TIMEOUT: "10" }).bodyIdleTimeout, 10_000);
  assert.equal(loadConfig({ CORRAL_BODY_IDLE_TIMEOUT: "0" }).bodyIdleTimeout, Infinity);
});
