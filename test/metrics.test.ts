// /metrics and /api/queue on a real server with real generations: request counts by route pattern,
// time to first token, token counts that match what the responses reported, loaded models and their
// memory, the queue while one slot is busy, a killed runner counted as a restart, and the key check.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFile } from "node:fs/promises";
import { sha256File, STORIES, startTestServer, type TestServer } from "./support/server.js";
import { parseMetrics, type Scrape } from "./support/metrics.js";

const KEY = "metrics-test-key";
const auth = { authorization: `Bearer ${KEY}` };
const MODEL = "stories:latest";
let srv: TestServer;

before(async () => {
  // One slot, so a second generation has to wait for the first.
  srv = await startTestServer({ CORRAL_API_KEYS: KEY, OLLAMA_NUM_PARALLEL: "1" });
  const digest = `sha256:${await sha256File(STORIES)}`;
  const up = await fetch(`${srv.url}/api/blobs/${digest}`, { method: "POST", headers: auth, body: await readFile(STORIES) });
  assert.ok(up.status === 201 || up.status === 200, String(up.status));
  const created = await call("/api/create", { model: "stories", files: { "model.gguf": digest }, stream: false });
  assert.equal(created.status, 200, await created.text());
});
after(() => srv.stop());

function call(path: string, body?: unknown, signal?: AbortSignal): Promise<Response> {
  return fetch(`${srv.url}${path}`, {
    method: body === undefined ? "GET" : "POST",
    headers: auth,
    body: body === undefined ? undefined : JSON.stringify(body),
    signal,
  });
}

async function scrape(): Promise<Scrape> {
  const res = await call("/metrics");
  assert.equal(res.status, 200);
  assert.match(res.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/);
  return parseMetrics(await res.text());
}

/** Scrapes until `ok` holds: a request is counted when its response closes, a moment after the client has read it. */
async function scrapeUntil(ok: (s: Scrape) => boolean): Promise<Scrape> {
  for (let i = 0; ; i++) {
    const s = await scrape();
    if (ok(s)) return s;
    if (i > 100) throw new Error("metrics never reached the expected state");
    await new Promise((r) => setTimeout(r, 20));
  }
}

const requests = (s: Scrape, route: string, status = "200") =>
  s.value("corral_http_requests_total", { route, method: "POST", status }) ?? 0;

test("generations show in request counts, time to first token, token totals, loaded models and memory", async () => {
  const options = { num_predict: 8, temperature: 0 };
  const streamed = await call("/api/generate", { model: "stories", prompt: "Once upon a time", options });
  assert.equal(streamed.status, 200);
  const lines = (await streamed.text()).split("\n").filter(Boolean).map((l) => JSON.parse(l));
  const single = await call("/api/generate", { model: "stories", prompt: "A cat", stream: false, options });
  assert.equal(single.status, 200);
  const singleBody = (await single.json()) as { eval_count: number; prompt_eval_count: number };
  const openai = await call("/v1/chat/completions", { model: "stories", messages: [{ role: "user", content: "Hi" }], max_tokens: 8 });
  assert.equal(openai.status, 200);
  const openaiBody = (await openai.json()) as { usage: { prompt_tokens: number; completion_tokens: number } };
  const generated = lines.at(-1).eval_count + singleBody.eval_count + openaiBody.usage.completion_tokens;
  const prompted = lines.at(-1).prompt_eval_count + singleBody.prompt_eval_count + openaiBody.usage.prompt_tokens;
  assert.ok(generated > 0);
  assert.equal((await call("/no/such/path")).status, 404);

  const s = await scrapeUntil((m) => requests(m, "/v1/chat/completions") === 1 && (m.value("corral_http_requests_total", { route: "unknown" }) ?? 0) >= 1);
  for (const [name, type] of [
    ["corral_http_requests_total", "counter"],
    ["corral_http_request_duration_seconds", "histogram"],
    ["corral_time_to_first_token_seconds", "histogram"],
    ["corral_prompt_tokens_total", "counter"],
    ["corral_generated_tokens_total", "counter"],
    ["corral_generation_tokens_per_second", "histogram"],
    ["corral_queue_depth", "gauge"],
    ["corral_queue_wait_seconds", "histogram"],
    ["corral_loaded_models", "gauge"],
    ["corral_model_memory_bytes", "gauge"],
    ["corral_runner_restarts_total", "counter"],
    ["corral_registry_bytes_total", "counter"],
    ["process_cpu_user_seconds_total", "counter"],
  ]) {
    assert.equal(s.types.get(name!), type, name);
  }
  assert.equal(requests(s, "/api/generate"), 2);
  assert.equal(requests(s, "/api/create"), 1);
  assert.ok((s.value("corral_http_request_duration_seconds_count", { route: "/api/generate", method: "POST" }) ?? 0) >= 2);
  // The unknown path is counted under "unknown", never under its own URL.
  assert.ok(!s.samples.some((x) => x.labels.route === "/no/such/path"));

  assert.ok((s.value("corral_time_to_first_token_seconds_count", { model: MODEL }) ?? 0) >= 3);
  assert.equal(s.value("corral_generated_tokens_total", { model: MODEL }), generated);
  assert.equal(s.value("corral_prompt_tokens_total", { model: MODEL }), prompted);
  assert.ok((s.value("corral_generation_tokens_per_second_count", { model: MODEL }) ?? 0) >= 1);
  assert.ok((s.value("corral_generation_tokens_per_second_sum", { model: MODEL }) ?? 0) > 0);
  assert.ok((s.value("corral_queue_wait_seconds_count", { model: MODEL }) ?? 0) >= 3);

  assert.equal(s.value("corral_loaded_models"), 1);
  assert.ok((s.value("corral_model_memory_bytes", { model: MODEL, kind: "ram" }) ?? 0) > 0);
  // Nothing waits at rest.
  assert.equal(s.value("corral_queue_depth", { model: MODEL }) ?? 0, 0);
  assert.equal(s.value("corral_registry_bytes_total", { direction: "pull" }), 0);
});

interface QueueRow {
  name: string;
  loaded: boolean;
  active: number;
  slots: number;
  waiting: number;
}

async function queue(): Promise<QueueRow[]> {
  const res = await call("/api/queue");
  assert.equal(res.status, 200);
  return ((await res.json()) as { models: QueueRow[] }).models;
}

test("with one slot, a second long generation waits: /api/queue and the queue depth gauge show it", async () => {
  const stop = new AbortController();
  const long = { model: "stories", prompt: "Once upon a time", options: { num_predict: 2000 } };
  const first = await call("/api/generate", long, stop.signal);
  const reader = first.body!.getReader();
  await reader.read(); // the first holds the slot once its first chunk arrives
  const second = call("/api/generate", long, stop.signal).catch(() => undefined);
  // Keep draining the first so it is never held back by a full socket.
  const drain = (async () => {
    try {
      while (!(await reader.read()).done);
    } catch {
      // aborted
    }
  })();
  try {
    let seen: { row: QueueRow; depth: number } | undefined;
    for (let i = 0; i < 500 && !seen; i++) {
      const row = (await queue()).find((r) => r.name === MODEL);
      if (row && row.waiting >= 1) {
        const depth = (await scrape()).value("corral_queue_depth", { model: MODEL }) ?? 0;
        if (depth >= 1) seen = { row, depth };
      }
    }
    assert.ok(seen, "the second request was never seen waiting");
    const { waiting, ...rest } = seen.row;
    assert.deepEqual(rest, { name: MODEL, loaded: true, active: 1, slots: 1 });
    assert.ok(waiting >= 1);
  } finally {
    stop.abort();
    await Promise.all([second, drain]);
  }
  // Once both are gone the queue is empty again: a loaded model with no one active or waiting.
  for (let i = 0; ; i++) {
    const rows = await queue();
    if (rows.length === 1 && rows[0]!.active === 0 && rows[0]!.waiting === 0) break;
    assert.ok(i < 200, JSON.stringify(rows));
    await new Promise((r) => setTimeout(r, 25));
  }
  // /api/ps keeps Ollama's shape: no queue fields there.
  const ps = (await (await call("/api/ps")).json()) as { models: Record<string, unknown>[] };
  assert.ok(!("waiting" in ps.models[0]!));
});

test("a killed runner is counted as a restart; the next request reloads it", async () => {
  const runners = execFileSync("pgrep", ["-P", String(srv.proc.pid)], { encoding: "utf8" }).trim().split("\n").filter(Boolean);
  assert.equal(runners.length, 1, `runner processes: ${runners.join(",")}`);
  process.kill(Number(runners[0]), "SIGKILL");
  await scrapeUntil((m) => m.value("corral_runner_restarts_total", { model: MODEL }) === 1);
  const again = await call("/api/generate", { model: "stories", prompt: "Once", stream: false, options: { num_predict: 4 } });
  assert.equal(again.status, 200, await again.text());
  const s = await scrape();
  assert.equal(s.value("corral_runner_restarts_total", { model: MODEL }), 1);
  assert.equal(s.value("corral_loaded_models"), 1);
});

test("/metrics and /api/queue need the key when keys are on", async () => {
  for (const path of ["/metrics", "/api/queue"]) {
    const res = await fetch(`${srv.url}${path}`);
    assert.equal(res.status, 401, path);
    assert.equal((await fetch(`${srv.url}${path}`, { headers: { authorization: "Bearer wrong" } })).status, 401);
  }
});
