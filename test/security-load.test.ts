// Under many concurrent clients with a small OLLAMA_MAX_QUEUE, every request is answered, with 200
// or Ollama's 503, none hangs, and the server still serves afterwards (bench/load.ts is the long run).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { runLoad } from "../bench/load-driver.js";
import { createFromGguf, postJson, startTestServer, STORIES, type TestServer } from "./support/server.js";

let srv: TestServer;
before(async () => {
  srv = await startTestServer({ OLLAMA_MAX_QUEUE: "2", OLLAMA_NUM_PARALLEL: "2" });
  await createFromGguf(srv.url, "stories", STORIES);
});
after(async () => srv?.stop());

test("50 clients for 5 s from a cold start: every request gets 200 or 503, none hangs", { timeout: 180_000 }, async () => {
  const result = await runLoad({ url: srv.url, model: "stories", clients: 50, durationMs: 5000, numPredict: 4, hungAfterMs: 120_000 });
  assert.equal(result.hung, 0);
  assert.deepEqual(Object.keys(result.statuses).filter((s) => s !== "200" && s !== "503"), [], JSON.stringify(result.statuses));
  assert.ok((result.statuses["200"] ?? 0) > 0, "requests were served");
  assert.equal(result.requests, (result.statuses["200"] ?? 0) + (result.statuses["503"] ?? 0));

  assert.equal((await fetch(`${srv.url}/api/version`)).status, 200);
  const after = await postJson(srv.url, "/api/generate", { model: "stories", prompt: "Once", stream: false, options: { num_predict: 4 } });
  assert.equal(after.status, 200, after.text);
  assert.equal(after.json.done, true);
});

test("a burst needing 20 different runners: each request gets 200 or Ollama's 503", { timeout: 120_000 }, async () => {
  // Each num_ctx needs its own runner: one loads, OLLAMA_MAX_QUEUE=2 wait behind it, the rest are refused.
  const burst = await Promise.all(
    Array.from({ length: 20 }, (_, i) =>
      postJson(srv.url, "/api/generate", { model: "stories", prompt: "Once", stream: false, options: { num_predict: 2, num_ctx: 64 + 16 * i } }),
    ),
  );
  for (const r of burst) assert.ok(r.status === 200 || r.status === 503, `${r.status} ${r.text}`);
  for (const r of burst.filter((r) => r.status === 503)) {
    assert.deepEqual(r.json, { error: "server busy, please try again.  maximum pending requests exceeded" });
  }
});
