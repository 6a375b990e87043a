// Load: 200 concurrent loopback clients for 60 s against stories260K with a small OLLAMA_MAX_QUEUE.
// Every request must be answered (200, or 503 while the queue is full), none may hang, and the
// server's memory must come back flat afterwards.
import { createFromGguf, startTestServer, STORIES } from "../test/support/server.js";
import { intArg } from "./args.js";
import { rssMiB, runLoad } from "./load-driver.js";

const CLIENTS = intArg("--clients", 200);
const SECONDS = intArg("--seconds", 60);
const NUM_PREDICT = intArg("--num-predict", 8);
const ROUNDS = intArg("--rounds", 1);
const MAX_QUEUE = 4;
const SETTLE_MS = 10_000;

const srv = await startTestServer({ OLLAMA_MAX_QUEUE: String(MAX_QUEUE), OLLAMA_NUM_PARALLEL: "4", OLLAMA_KEEP_ALIVE: "10m" });
try {
  await createFromGguf(srv.url, "stories", STORIES);
  const pid = srv.proc.pid!;
  const rssStart = await rssMiB(pid);
  let failed = false;
  // Round 1 starts cold (the model not loaded); later rounds show whether memory keeps growing.
  for (let round = 1; round <= ROUNDS; round++) {
    const rssBefore = await rssMiB(pid);
    const result = await runLoad({ url: srv.url, model: "stories", clients: CLIENTS, durationMs: SECONDS * 1000, numPredict: NUM_PREDICT, hungAfterMs: 120_000 });
    const rssAfter = await rssMiB(pid);
    await new Promise((r) => setTimeout(r, SETTLE_MS));
    const rssSettled = await rssMiB(pid);
    const alive = (await fetch(`${srv.url}/api/version`)).status;
    const report = {
      round, clients: CLIENTS, seconds: SECONDS, num_predict: NUM_PREDICT, OLLAMA_MAX_QUEUE: MAX_QUEUE, OLLAMA_NUM_PARALLEL: 4,
      requests: result.requests, statuses: result.statuses, hung: result.hung,
      req_per_s: Number(result.reqPerSec.toFixed(1)), p50_ms: Math.round(result.p50Ms), p99_ms: Math.round(result.p99Ms),
      server_rss_mib: { idle_start: Math.round(rssStart), before: Math.round(rssBefore), after: Math.round(rssAfter), settled: Math.round(rssSettled) },
      alive_after: alive,
    };
    console.log(JSON.stringify(report, null, 2));
    const unexpected = Object.keys(result.statuses).filter((s) => s !== "200" && s !== "503");
    if (result.hung > 0 || unexpected.length > 0 || alive !== 200) {
      console.error(`FAIL: hung ${result.hung}, unexpected ${unexpected.join(", ") || "none"}, alive ${alive}`);
      failed = true;
    }
  }
  if (failed) process.exitCode = 1;
} finally {
  await srv.stop();
}
