// Embedding throughput: 256 short inputs in one /api/embed request against the same inputs sent one
// request at a time, in one invocation on one server, printed as a ratio.
import { createHash } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startServer } from "../src/server/serve.js";
import { loadConfig } from "../src/config.js";
import { buildRandomBert } from "./random-bert.js";

const N = 256;
const dir = await mkdtemp(join(tmpdir(), "corral-bench-embed-"));
const modelPath = join(dir, "bert.gguf");
await buildRandomBert(modelPath);
const server = await startServer(loadConfig({ ...process.env, OLLAMA_HOST: "127.0.0.1:0", OLLAMA_MODELS: join(dir, "models") }));

async function post(path: string, body: unknown) {
  const res = await fetch(server.url + path, { method: "POST", body: JSON.stringify(body) });
  if (!res.ok) throw new Error(`${path} -> ${res.status} ${await res.text()}`);
  return res.json() as Promise<Record<string, unknown>>;
}

try {
  const bytes = await readFile(modelPath);
  const digest = `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
  await fetch(`${server.url}/api/blobs/${digest}`, { method: "POST", body: bytes });
  await post("/api/create", { model: "bert", files: { "bert.gguf": digest }, stream: false });
  const inputs = Array.from({ length: N }, (_, i) => `short input number ${i} about cats and dogs`);
  await post("/api/embed", { model: "bert", input: inputs.slice(0, 8) }); // load and warm up

  const runs = 3;
  const batch: number[] = [];
  const single: number[] = [];
  for (let r = 0; r < runs; r++) {
    let t = performance.now();
    await post("/api/embed", { model: "bert", input: inputs });
    batch.push(N / ((performance.now() - t) / 1000));
    t = performance.now();
    for (const input of inputs) await post("/api/embed", { model: "bert", input });
    single.push(N / ((performance.now() - t) / 1000));
  }
  const best = (xs: number[]) => Math.max(...xs);
  const f = (x: number) => x.toFixed(1);
  console.log(
    [
      "corral embedding throughput",
      `  model            random BERT (dim 64, 2 layers, mean pooling), real bge WordPiece tokenizer`,
      `  inputs           ${N} short texts, ${runs} alternating runs`,
      `  one request      best ${f(best(batch))} embeddings/s (runs: ${batch.map(f).join(", ")})`,
      `  one by one       best ${f(best(single))} embeddings/s (runs: ${single.map(f).join(", ")})`,
      `  ratio            ${(best(batch) / best(single)).toFixed(2)} (one request / one by one)`,
    ].join("\n"),
  );
} finally {
  await server.close();
  await rm(dir, { recursive: true, force: true });
}
