// Runner tests against the real engine and the real stories260K model, through the child process.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { ApiError } from "../src/api/errors.js";
import { startRunner, type RunnerProcess } from "../src/runner/client.js";
import {
  RUNNER_STOPPED_MESSAGE,
  type GenerateParams,
  type GenerateStats,
  type DriverName,
  type LoadParams,
  type SamplingOptions,
} from "../src/runner/protocol.js";
import { availableDrivers, ensureEngine, loadFor } from "./support/engine.js";
import { STORIES } from "./support/server.js";

const MODEL = STORIES;
await ensureEngine();
const DRIVERS = availableDrivers();
const load = (driver: DriverName, over: Partial<LoadParams> = {}): LoadParams =>
  loadFor({ modelPath: MODEL, adapters: [], contextSize: 256, batchSize: 256, parallel: 2, threads: 1, ...over }, driver);
const LOAD = load(DRIVERS[0]!);
const GREEDY: SamplingOptions = {
  temperature: 0,
  topK: 40,
  topP: 0.9,
  minP: 0,
  seed: 1,
  repeatPenalty: 1,
  repeatLastN: 64,
  presencePenalty: 0,
  frequencyPenalty: 0,
};
const STORY = ", there was a little girl named Lily";

function params(over: Partial<GenerateParams> = {}): GenerateParams {
  return { prompt: "Once upon a time", maxTokens: 40, stop: [], sampling: GREEDY, numKeep: 4, shift: true, returnContext: false, ...over };
}

async function run(
  r: RunnerProcess,
  p: GenerateParams,
  signal?: AbortSignal,
  onChunk?: (n: number) => void,
): Promise<{ text: string; stats: GenerateStats }> {
  let text = "";
  let n = 0;
  const stats = await r.generate(p, { signal, onToken: (t) => ((text += t), onChunk?.(++n)) });
  return { text, stats };
}

for (const driver of DRIVERS) describe(`runner (${driver})`, () => {
  let r: RunnerProcess;
  before(async () => {
    r = await startRunner(load(driver));
  });
  after(async () => {
    await r?.close();
  });

  test("loads and reports model info", () => {
    assert.ok(r.pid > 0);
    assert.equal(r.info.contextSize, 256);
    assert.equal(r.info.trainContextSize, 2048);
    assert.equal(r.info.bosText, "<s>");
    assert.equal(r.info.eosText, "</s>");
    assert.equal(r.info.addBos, true);
    assert.equal(r.info.vramBytes, 0);
    assert.ok(r.info.memoryBytes > 1_000_000);
  });

  test("greedy decoding matches the reference story", async () => {
    const { text, stats } = await run(r, params());
    assert.ok(text.startsWith(STORY), text);
    assert.equal(stats.promptTokens, 5); // BOS + 4
    assert.ok(stats.promptEvalNs > 0 && stats.evalNs > 0);
  });

  test("a BOS already in the prompt text is not doubled", async () => {
    const { text, stats } = await run(r, params({ prompt: "<s>Once upon a time", maxTokens: 10 }));
    assert.ok(text.startsWith(STORY), text);
    assert.equal(stats.promptTokens, 5);
  });

  test("maxTokens ends with length and counts exactly", async () => {
    const { stats } = await run(r, params({ maxTokens: 7 }));
    assert.equal(stats.doneReason, "length");
    assert.equal(stats.evalTokens, 7);
  });

  test("seeded sampling is reproducible and seed-dependent", async () => {
    const s = (seed: number) => params({ maxTokens: 40, sampling: { ...GREEDY, temperature: 0.8, seed } });
    const a = await run(r, s(42));
    const b = await run(r, s(42));
    const c = await run(r, s(43));
    assert.equal(a.text, b.text);
    assert.notEqual(a.text, c.text);
  });

  test("stop strings end generation and are excluded", async () => {
    const { text, stats } = await run(r, params({ stop: ["Lily"] }));
    assert.equal(text, ", there was a little girl named ");
    assert.equal(stats.doneReason, "stop");
  });

  test("a JSON-schema grammar gives parseable JSON and ends with stop", async () => {
    const schema = { type: "object", properties: { happy: { type: "boolean" }, n: { enum: [1, 2, 3] } }, required: ["happy", "n"] };
    const { text, stats } = await run(r, params({ prompt: "Once", maxTokens: 100, grammar: { kind: "schema", schema } }));
    const v = JSON.parse(text) as Record<string, unknown>;
    assert.equal(typeof v.happy, "boolean");
    assert.equal(stats.doneReason, "stop");
  });

  test("json grammar constrains the output", async () => {
    // stories260K never closes a JSON string on its own, so check the constrained prefix only.
    const { text, stats } = await run(r, params({ maxTokens: 30, grammar: { kind: "json" } }));
    assert.match(text, /^\{\s*"/);
    assert.equal(stats.doneReason, "length");
  });

  test("an AbortSignal cancels and still reports stats", async () => {
    const ac = new AbortController();
    // The json grammar keeps this model talking, so only the cancel can end it early.
    const { stats } = await run(r, params({ maxTokens: 2000, grammar: { kind: "json" } }), ac.signal, (n) => {
      if (n === 3) ac.abort();
    });
    assert.equal(stats.doneReason, "stop");
    assert.ok(stats.evalTokens >= 3 && stats.evalTokens < 200, `evalTokens ${stats.evalTokens}`);
  });

  test("a cancel before the start still answers with stats", async () => {
    const ac = new AbortController();
    ac.abort();
    const { stats } = await run(r, params({ maxTokens: 200 }), ac.signal);
    assert.equal(stats.doneReason, "stop");
    assert.ok(stats.evalTokens <= 2, `evalTokens ${stats.evalTokens}`);
  });

  test("more requests than sequences wait for a free one", async () => {
    const all = await Promise.all([1, 2, 3].map(() => run(r, params({ maxTokens: 12 }))));
    for (const { text } of all) assert.ok(text.startsWith(STORY), text);
  });

  test("repeat penalties (window over the prompt too) change greedy output", async () => {
    const sampling = { ...GREEDY, repeatPenalty: 1.5, repeatLastN: -1, presencePenalty: 0.5, frequencyPenalty: 0.5 };
    const plain = await run(r, params({ maxTokens: 40 }));
    const penalized = await run(r, params({ maxTokens: 40, sampling }));
    assert.notEqual(penalized.text, plain.text);
    assert.equal(penalized.stats.evalTokens, 40);
  });

  test("tokenize / detokenize round trip, specials parsed, no BOS added", async () => {
    const toks = await r.tokenize("Once upon a time");
    assert.deepEqual(toks, [403, 407, 261, 378]);
    assert.equal(await r.detokenize(toks), "Once upon a time");
    assert.equal((await r.tokenize("<s>Hi"))[0], 1);
  });

  test("returnContext covers prompt and response", async () => {
    const { text, stats } = await run(r, params({ maxTokens: 12, returnContext: true }));
    assert.ok(stats.context && stats.context.length > 5);
    assert.ok((await r.detokenize(stats.context)).includes("Once upon a time" + text));
  });

  const LONG = "Once upon a time, there was a little girl named Lily. ".repeat(30);

  test("a prompt longer than the context fails with shift off", async () => {
    await assert.rejects(run(r, params({ prompt: LONG, shift: false })), (e: unknown) => {
      assert.ok(e instanceof ApiError);
      assert.equal(e.status, 400);
      assert.match(e.message, /^the prompt is longer than the context length/);
      return true;
    });
  });

  test("a prompt longer than the context is truncated with shift on", async () => {
    const { text, stats } = await run(r, params({ prompt: LONG, maxTokens: 10 }));
    assert.ok(stats.promptTokens < 256 && stats.promptTokens > 200, `promptTokens ${stats.promptTokens}`);
    assert.equal(stats.evalTokens, 10);
    assert.ok(text.length > 0);
  });

  test("with shift off, generation stops with length when the context is full", async () => {
    const { stats } = await run(r, params({ maxTokens: -1, shift: false, grammar: { kind: "json" } }));
    assert.equal(stats.doneReason, "length");
    assert.equal(stats.promptTokens + stats.evalTokens, 256);
  });

  test("with shift on, generation runs past the context size", async () => {
    const { stats } = await run(r, params({ maxTokens: 300, grammar: { kind: "json" } }));
    assert.equal(stats.doneReason, "length");
    assert.equal(stats.evalTokens, 300);
  });

  test("embed returns one raw vector per input; too long fails without truncate", async () => {
    const res = await r.embed({ inputs: ["hello world", "Once upon a time"], truncate: true });
    assert.equal(res.embeddings.length, 2);
    assert.equal(res.embeddings[0]!.length, 64);
    assert.ok(res.promptTokens >= 6);
    const cut = await r.embed({ inputs: [LONG], truncate: true });
    assert.ok(cut.promptTokens <= 256 && cut.promptTokens > 200, `promptTokens ${cut.promptTokens}`);
    await assert.rejects(r.embed({ inputs: [LONG], truncate: false }), (e: unknown) => {
      assert.ok(e instanceof ApiError);
      assert.equal(e.status, 400);
      assert.equal(e.message, "the input length exceeds the context length");
      return true;
    });
  });
});

/** Children of a process, from /proc. */
function childPids(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return !readFileSync(`/proc/${pid}/stat`, "utf8").includes(") Z ");
  } catch {
    return false;
  }
}

if (DRIVERS.includes("llama-server")) {
  test("SIGKILL of the llama-server process fails the request with Ollama's error and ends the runner", async () => {
    const r = await startRunner(load("llama-server", { parallel: 1 }));
    const server = childPids(r.pid)[0]!;
    assert.ok(server > 0 && readFileSync(`/proc/${server}/cmdline`, "utf8").includes("llama-server"));
    const exited = new Promise((res) => r.onExit(res));
    const p = run(r, params({ maxTokens: 100_000, grammar: { kind: "json" } }), undefined, (n) => {
      if (n === 1) process.kill(server, "SIGKILL");
    });
    await assert.rejects(p, (e: unknown) => e instanceof ApiError && e.status === 500 && e.message === RUNNER_STOPPED_MESSAGE);
    await exited;
    assert.equal(r.exited, true);
  });

  test("SIGKILL of the runner takes its llama-server down too", async () => {
    const r = await startRunner(load("llama-server", { parallel: 1 }));
    const server = childPids(r.pid)[0]!;
    assert.ok(alive(server));
    const exited = new Promise((res) => r.onExit(res));
    process.kill(r.pid, "SIGKILL");
    await exited;
    for (let i = 0; i < 50 && alive(server); i++) await new Promise((res) => setTimeout(res, 20));
    assert.equal(alive(server), false);
  });
}

test("SIGKILL during a generation fails the request at once and fires onExit", async () => {
  const r = await startRunner({ ...LOAD, parallel: 1 });
  const exited = new Promise<{ code: number | null; signal: string | null }>((res) => r.onExit(res));
  let killedAt = 0n;
  const p = run(r, params({ maxTokens: 100_000, grammar: { kind: "json" } }), undefined, (n) => {
    if (n === 1) {
      killedAt = process.hrtime.bigint();
      process.kill(r.pid, "SIGKILL");
    }
  });
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof ApiError);
    assert.equal(e.status, 500);
    assert.equal(e.message, RUNNER_STOPPED_MESSAGE);
    return true;
  });
  assert.ok(Number(process.hrtime.bigint() - killedAt) < 2e9);
  assert.equal((await exited).signal, "SIGKILL");
  assert.equal(r.exited, true);
  await assert.rejects(r.tokenize("x"), { message: RUNNER_STOPPED_MESSAGE });
  await r.close(); // idempotent no-op on a dead runner
});

test("a load failure rejects with Ollama's message and leaves no child", async () => {
  await assert.rejects(startRunner({ ...LOAD, modelPath: "/nonexistent/model.gguf" }), (e: unknown) => {
    assert.ok(e instanceof ApiError);
    assert.equal(e.status, 500);
    assert.match(e.message, /^llama runner process has terminated: /);
    return true;
  });
});

test("close is graceful and idempotent", async () => {
  const r = await startRunner({ ...LOAD, parallel: 1 });
  const exited = new Promise<{ code: number | null }>((res) => r.onExit(res));
  await Promise.all([r.close(), r.close()]);
  assert.equal((await exited).code, 0);
});

test("the server-side module graph of client.js never reaches node-llama-cpp", () => {
  // Walk the compiled import graph from client.js (relative imports followed, bare ones collected).
  const start = fileURLToPath(new URL("../src/runner/client.js", import.meta.url));
  const seen = new Set<string>();
  const bare = new Set<string>();
  const walk = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const src = readFileSync(file, "utf8");
    for (const m of src.matchAll(/(?:import|export)\s[^;]*?from\s*["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)/g)) {
      const spec = (m[1] ?? m[2])!;
      if (spec.startsWith(".")) walk(resolve(dirname(file), spec));
      else bare.add(spec);
    }
  };
  walk(start);
  assert.ok(![...bare].some((s) => s.startsWith("node-llama-cpp")), [...bare].join(", "));
  assert.ok(![...seen].some((f) => f.endsWith("engine.js") || f.endsWith("child.js")), [...seen].join(", "));
});
