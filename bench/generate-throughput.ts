// Decode throughput of corral's /api/generate against raw node-llama-cpp on the same model, same
// sampling and same thread count, measured in one invocation. The two sides take turns run by run (each
// idle while the other decodes), so drift in machine load hits both alike.

import { spawn, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { createReadStream, existsSync, readFileSync } from "node:fs";
import { mkdtemp, rm, stat } from "node:fs/promises";
import { request } from "node:http";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { getLlama, LlamaCompletion } from "node-llama-cpp";
import { physicalCores } from "../src/config.js";
import { readGguf } from "../src/gguf/reader.js";
import { cachedRandomLlama, DEFAULT_SHAPE } from "./random-model.js";
import { intArg } from "./args.js";

const N_PREDICT = 128;
const RUNS = intArg("--runs", 5);
const SEED = 42;
const PROMPT = "Once upon a time, in a small village by the sea, there lived an old fisherman who";
const ROOT = resolve(fileURLToPath(import.meta.url), "../../.."); // dist/bench/x.js -> repo root


interface Side {
  /** One timed generation; returns decode tok/s. */
  run(): Promise<number>;
  close(): Promise<void>;
}

/** Raw node-llama-cpp, sampling identical to the server request below. */
async function reference(modelPath: string, threads: number): Promise<Side> {
  const llama = await getLlama({ gpu: false, build: "never", maxThreads: threads });
  const model = await llama.loadModel({ modelPath });
  const ctx = await model.createContext({ contextSize: 2048, threads, sequences: 1 });
  const seq = ctx.getSequence();
  const completion = new LlamaCompletion({ contextSequence: seq });
  const prompt = model.tokenize(PROMPT, true);
  return {
    async run() {
      await seq.clearHistory();
      const before = seq.tokenMeter.getState();
      let first = 0;
      await completion.generateCompletion(prompt, {
        maxTokens: N_PREDICT, temperature: 0.8, topK: 40, topP: 0.9, minP: 0, seed: SEED, repeatPenalty: false,
        onToken: () => { if (!first) first = performance.now(); },
      });
      const last = performance.now(); // eval window: first token to the end, as the server reports eval_duration
      const generated = seq.tokenMeter.diff(before).usedOutputTokens;
      if (generated !== N_PREDICT) throw new Error(`reference generated ${generated} tokens, expected ${N_PREDICT}`);
      return generated / ((last - first) / 1000);
    },
    async close() {
      await ctx.dispose();
      await model.dispose();
      await llama.dispose();
    },
  };
}

async function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number };
      s.close(() => ok(port));
    }).on("error", fail);
  });
}

async function sha256File(path: string): Promise<string> {
  const h = createHash("sha256");
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest("hex");
}

function uploadBlob(base: string, digest: string, path: string): Promise<number> {
  return new Promise((ok, fail) => {
    const req = request(`${base}/api/blobs/${digest}`, { method: "POST" }, (res) => {
      res.resume();
      res.on("end", () => ok(res.statusCode ?? 0));
    });
    req.on("error", fail);
    createReadStream(path).on("error", fail).pipe(req);
  });
}

async function postJson(base: string, path: string, body: unknown): Promise<any> {
  const res = await fetch(base + path, { method: "POST", body: JSON.stringify(body) }).catch((e: Error) => {
    throw new Error(`POST ${path}: ${e.message}${e.cause ? ` (${(e.cause as Error).message})` : ""}`);
  });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`${path} -> ${res.status} ${text}`);
  return JSON.parse(text);
}

interface ServerSide extends Side { startMs: number; idleRssMb: number }

async function corral(modelPath: string, threads: number): Promise<ServerSide> {
  const main = join(ROOT, "dist/src/cli/main.js");
  if (!existsSync(main)) throw new Error(`${main} does not exist: build the server first`);
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const models = await mkdtemp(join(tmpdir(), "corral-bench-models-"));
  let child: ChildProcess | undefined;
  let stderr = "";
  try {
    const t0 = performance.now();
    child = spawn(process.execPath, [main, "serve"], {
      env: { ...process.env, OLLAMA_HOST: `127.0.0.1:${port}`, OLLAMA_MODELS: models, OLLAMA_NUM_PARALLEL: "1" },
      stdio: ["ignore", "ignore", "pipe"],
    });
    child.stderr!.on("data", (d: Buffer) => { stderr = (stderr + d.toString()).slice(-4000); });
    const exited = new Promise<never>((_, fail) =>
      child!.on("exit", (code) => fail(new Error(`server exited with ${code}:\n${stderr}`))));
    exited.catch(() => {});

    // Poll GET / until the first 200.
    let startMs = 0;
    while (!startMs) {
      const ok = await Promise.race([
        fetch(base + "/").then((r) => r.status === 200, () => false),
        exited,
      ]);
      if (ok) startMs = performance.now() - t0;
      else if (performance.now() - t0 > 30_000) throw new Error(`server did not answer in 30 s:\n${stderr}`);
      else await new Promise((r) => setTimeout(r, 5));
    }
    const status = readFileSync(`/proc/${child.pid}/status`, "utf8");
    const idleRssMb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;

    const digest = "sha256:" + (await sha256File(modelPath));
    const code = await uploadBlob(base, digest, modelPath);
    if (code !== 201 && code !== 200) throw new Error(`blob upload -> ${code}`);
    await postJson(base, "/api/create", { model: "bench", files: { "model.gguf": digest }, stream: false });

    const body = {
      model: "bench", prompt: PROMPT, raw: true, stream: false,
      // repeat_penalty 1 / repeat_last_n 0 match the reference's repeatPenalty:false (Ollama defaults to 1.1).
      options: { num_predict: N_PREDICT, temperature: 0.8, top_k: 40, top_p: 0.9, min_p: 0, seed: SEED,
        repeat_penalty: 1, repeat_last_n: 0, num_thread: threads, num_ctx: 2048 },
    };
    const run = async () => {
      const r = await postJson(base, "/api/generate", body);
      if (r.eval_count !== N_PREDICT) throw new Error(`corral generated ${r.eval_count} tokens, expected ${N_PREDICT}`);
      return r.eval_count / (r.eval_duration / 1e9);
    };
    await run(); // loads the model and warms up
    const server = child;
    return {
      run, startMs, idleRssMb,
      close: async () => {
        server.kill("SIGTERM");
        await new Promise((r) => server.once("exit", r));
        await rm(models, { recursive: true, force: true });
      },
    };
  } catch (e) {
    if (child && child.exitCode === null) child.kill("SIGKILL");
    await rm(models, { recursive: true, force: true });
    throw new Error(`${(e as Error).message}${stderr ? `\n  server stderr (tail):\n${stderr}` : ""}`);
  }
}

const threads = intArg("--threads", physicalCores());
const shape = DEFAULT_SHAPE;
const t0 = performance.now();
const modelPath = await cachedRandomLlama(shape);
const buildMs = performance.now() - t0;
const sizeMb = (await stat(modelPath)).size / 1e6;
const params = (await readGguf(modelPath)).tensors.reduce((n, t) => n + t.shape.reduce((a, b) => a * b, 1), 0);
const refSide = await reference(modelPath, threads);
await refSide.run(); // warm-up
let server: ServerSide | undefined;
let serverError = "";
try {
  server = await corral(modelPath, threads);
} catch (e) {
  serverError = (e as Error).message;
}
const refRuns: number[] = [];
const serverRuns: number[] = [];
for (let i = 0; i < RUNS; i++) {
  refRuns.push(await refSide.run());
  if (server) serverRuns.push(await server.run());
}
await refSide.close();
await server?.close();

const median = (xs: number[]) => {
  const v = [...xs].sort((a, b) => a - b);
  return v.length % 2 ? v[(v.length - 1) / 2]! : (v[v.length / 2 - 1]! + v[v.length / 2]!) / 2;
};
const f = (n: number, d = 1) => n.toFixed(d);
const list = (runs: number[]) => `(runs: ${runs.map((r) => f(r)).join(", ")})`;
console.log(
  [
    "corral generate throughput",
    `  model            random llama dim ${shape.dim}, ${shape.layers} layers, ${shape.heads} heads (kv ${shape.kvHeads}), ffn ${shape.ffn}, ${shape.weightType}; ${f(params / 1e6)}M params, ${f(sizeMb)} MB (ready in ${f(buildMs, 0)} ms)`,
    `  threads          ${threads}`,
    `  decode           ${N_PREDICT} tokens, temp 0.8 top_k 40 top_p 0.9 seed ${SEED}, ${RUNS} alternating runs per side`,
    `  reference        median ${f(median(refRuns))} tok/s, best ${f(Math.max(...refRuns))}, node-llama-cpp in-process ${list(refRuns)}`,
    ...(server
      ? [
          `  corral           median ${f(median(serverRuns))} tok/s, best ${f(Math.max(...serverRuns))} ${list(serverRuns)}`,
          `  ratio            ${f(median(serverRuns) / median(refRuns), 3)} of medians, ${f(Math.max(...serverRuns) / Math.max(...refRuns), 3)} of bests (corral / reference)`,
          `  server start     ${f(server.startMs, 0)} ms (spawn to first 200 on GET /)`,
          `  server idle RSS  ${f(server.idleRssMb)} MB`,
        ]
      : [`  corral           not measured: ${serverError}`]),
  ].join("\n"),
);
if (!server) process.exitCode = 1;
