// npm run bench:engine — corral's engine against llama.cpp's own tools from the same build, same
// models and threads, sides interleaved in one invocation. Prints ratios; the last line is JSON.
import { mkdir, rename, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { loadConfig, physicalCores } from "../src/config.js";
import { findBuild } from "../src/engine/cache.js";
import { readGguf } from "../src/gguf/reader.js";
import { quantizeGguf } from "../src/gguf/quantize.js";
import { intArg } from "./args.js";
import { llamaBenchTg, median, startCorral, startLlamaServer, streamTimed, type Corral, type ModelFiles } from "./engine-sides.js";
import { cachedRandomLlama, shapeKey, type LlamaShape } from "./random-model.js";

const STORIES = fileURLToPath(new URL("../../../shared/models/stories260K.gguf", import.meta.url));
/** Llama-3.2-1B's shape with a 32k SentencePiece vocabulary. */
const ONE_B: Partial<LlamaShape> = { dim: 2048, layers: 16, heads: 32, kvHeads: 8, ffn: 8192, contextLength: 4096, weightType: "F16" };
const ROUNDS = intArg("--rounds", 3);
const T = intArg("--threads", physicalCores());
const log = (s: string) => process.stdout.write(s + "\n");

async function oneBModel(): Promise<string> {
  const out = join(tmpdir(), "corral-bench", `${shapeKey(ONE_B)}-Q4_K_M.gguf`);
  if (await stat(out).catch(() => null)) return out;
  log("building a random Llama-1B-shaped model (F16, then Q4_K_M; cached)...");
  const f16 = await cachedRandomLlama(ONE_B);
  await mkdir(join(tmpdir(), "corral-bench"), { recursive: true });
  await quantizeGguf(f16, await readGguf(f16), out + ".tmp", "q4_K_M", { threads: T });
  await rename(out + ".tmp", out);
  return out;
}

const tokS = (r: Record<string, number>) => r.eval_count! / (r.eval_duration! / 1e9);
const GREEDY = { temperature: 0, top_k: 1, repeat_penalty: 1, seed: 1 };

/** Single-stream decode: corral /api/generate vs llama-bench tg, alternating; best of thread counts per side. */
async function singleStream(c: Corral, model: string, file: string, n: number, threadChoices: (number | undefined)[], bench: string, benchExtra: string[] = []) {
  const corral: number[] = [];
  const ref: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    let best = 0;
    for (const t of threadChoices) {
      const res = await c.generate({ model, prompt: "Once upon a time", raw: true, options: { ...GREEDY, num_predict: n, ...(t ? { num_thread: t } : {}) } });
      if (res.eval_count !== n) throw new Error(`corral generated ${res.eval_count} of ${n} tokens`);
      best = Math.max(best, tokS(res));
    }
    corral.push(best);
    let bestRef = 0;
    for (const t of threadChoices) bestRef = Math.max(bestRef, await llamaBenchTg(bench, file, n, t ?? T, benchExtra));
    ref.push(bestRef);
  }
  return { corral: median(corral), ref: median(ref) };
}

/** Four streams at once; aggregate generated tokens per second of wall time. */
async function concurrent4(post: (i: number) => Promise<number>): Promise<number> {
  const t0 = performance.now();
  const counts = await Promise.all([0, 1, 2, 3].map(post));
  return counts.reduce((a, b) => a + b, 0) / ((performance.now() - t0) / 1000);
}

const N_CONC = 128;
const corralConc = (c: Corral, model: string) => (i: number) =>
  c.generate({ model, prompt: `Story ${i}: once upon a time`, raw: true, options: { ...GREEDY, seed: i, num_predict: N_CONC } }).then((r) => r.eval_count!);

async function draftRatio(c: Corral): Promise<number> {
  const run = async (model: string) =>
    tokS(await c.generate({ model, prompt: "Once upon a time", raw: true, options: { ...GREEDY, num_predict: 128 } }));
  await run("oneb-draft");
  const ratios: number[] = [];
  for (let r = 0; r < ROUNDS; r++) ratios.push((await run("oneb-draft")) / (await run("oneb")));
  return median(ratios);
}

async function ttft(c: Corral, model: string): Promise<{ cold: number; cached: number }> {
  const words = "river stone lamp quiet orange window garden paper silver music".split(" ");
  const prompt = (salt: number) => `${salt} ` + Array.from({ length: 500 }, (_, i) => words[(i * 7 + salt) % words.length]).join(" ");
  const cold: number[] = [];
  const cached: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const p = prompt(1000 + r);
    const body = { model, prompt: p, raw: true, options: { ...GREEDY, num_predict: 1 } };
    cold.push((await streamTimed(`${c.base}/api/generate`, body)).ttftMs);
    cached.push((await streamTimed(`${c.base}/api/generate`, body)).ttftMs);
  }
  return { cold: median(cold), cached: median(cached) };
}

const config = loadConfig();
const build = findBuild(config.engineCache);
if (!build) throw new Error("llama.cpp is not built here: run `npm install` or `node dist/src/cli/main.js engine build`");
const bench = build.bin("llama-bench");
const oneB = await oneBModel();
log(`corral engine benchmark: ${T} threads, ${ROUNDS} rounds, llama.cpp ${build.tag} (${build.key})`);
log(`  models: stories260K; random Llama-1B shape Q4_K_M (${((await stat(oneB)).size / 1e6).toFixed(0)} MB)`);

const results: Record<string, number> = {};
for (const engine of ["llama-server", "node-llama-cpp"] as const) {
  // No smaller model shares the random 1B's vocabulary, so it drafts for itself.
  const drafted: Record<string, ModelFiles> = engine === "llama-server" ? { "oneb-draft": { file: oneB, draft: oneB } } : {};
  const c = await startCorral({ CORRAL_ENGINE: engine }, { oneb: oneB, stories: STORIES, ...drafted });
  try {
    const warm = async (model: string) => c.generate({ model, prompt: "Hi", raw: true, options: { ...GREEDY, num_predict: 4 } });
    await warm("oneb");
    const one = await singleStream(c, "oneb", oneB, 128, [undefined], bench);
    log(`  [${engine}] 1B decode: corral ${one.corral.toFixed(1)} tok/s, llama-bench tg128 ${one.ref.toFixed(1)} tok/s: ${(one.corral / one.ref).toFixed(3)}`);
    await warm("stories");
    // Each side at its best thread count: corral's own default and every core; llama-bench on 1 and every core.
    const tiny = await singleStream(c, "stories", STORIES, 256, T > 1 ? [1, T] : [1], bench);
    log(`  [${engine}] stories260K decode: corral ${tiny.corral.toFixed(0)} tok/s, llama-bench tg256 ${tiny.ref.toFixed(0)} tok/s: ${(tiny.corral / tiny.ref).toFixed(3)}`);
    const conc: number[] = [];
    for (let r = 0; r < ROUNDS; r++) conc.push(await concurrent4(corralConc(c, "oneb")));
    results[`${engine}:concurrent4`] = median(conc);
    log(`  [${engine}] 4 concurrent streams (default settings): ${median(conc).toFixed(1)} tok/s aggregate`);
    results[`${engine}:single`] = one.corral / one.ref;
    results[`${engine}:tiny`] = tiny.corral / tiny.ref;
    if (engine === "llama-server") {
      const t = await ttft(c, "oneb");
      results.ttft = t.cached / t.cold;
      log(`  [${engine}] 512-token prompt TTFT: cold ${t.cold.toFixed(0)} ms, repeated prefix ${t.cached.toFixed(0)} ms: ${results.ttft.toFixed(3)}`);
      // Last: "oneb" and "oneb-draft" share one GGUF, so switching between them reloads the runner.
      // With the model as its own draft every drafted token is accepted: this shows what verifying a
      // batch of drafted tokens costs or saves against one token a step.
      const d = await draftRatio(c);
      results.draft = d;
      log(`  [${engine}] 1B decode with itself as DRAFT vs without: ${d.toFixed(3)}`);
    }
  } finally {
    await c.close();
  }
}

// llama-server on its own, as its users run it: four slots, continuous batching.
const direct = await startLlamaServer(build.bin("llama-server"), ["-m", oneB, "-np", "4", "-c", String(4 * 2048), "-t", String(T), "-tb", String(T)]);
const directConc: number[] = [];
try {
  for (let r = 0; r < ROUNDS; r++)
    directConc.push(
      await concurrent4(async (i) => {
        const res = await fetch(`${direct.base}/completion`, {
          method: "POST",
          body: JSON.stringify({ prompt: `Story ${i}: once upon a time`, n_predict: N_CONC, temperature: 0, top_k: 1, seed: i, cache_prompt: true }),
        });
        const j = (await res.json()) as { tokens_predicted: number };
        return j.tokens_predicted;
      }),
    );
} finally {
  await direct.close();
}
log(`  llama-server -np 4 directly: ${median(directConc).toFixed(1)} tok/s aggregate`);

const summary = {
  single_vs_llama_bench: round(results["llama-server:single"]!),
  tiny_vs_llama_bench: round(results["llama-server:tiny"]!),
  concurrent4_vs_llama_server: round(results["llama-server:concurrent4"]! / median(directConc)),
  ttft_cached_vs_cold: round(results.ttft!),
  draft_vs_plain: round(results.draft!),
  node_llama_cpp: {
    single_vs_llama_bench: round(results["node-llama-cpp:single"]!),
    tiny_vs_llama_bench: round(results["node-llama-cpp:tiny"]!),
    concurrent4_vs_llama_server: round(results["node-llama-cpp:concurrent4"]! / median(directConc)),
  },
};
log(JSON.stringify(summary));

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}
