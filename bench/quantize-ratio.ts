// Quantization time: corral's quantizer (llama.cpp's, run in a child process) and the full
// `/api/create` with `quantize` (which adds hashing and storing the result), each against the
// reference, llama.cpp's llama_model_quantize called in this process on the same file. Printed as ratios.
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { loadConfig } from "../src/config.js";
import { loadLlamaQuantLib } from "../src/gguf/llama-ffi.js";
import { parseQuantizeType, quantizeGguf } from "../src/gguf/quantize.js";
import { readGguf } from "../src/gguf/reader.js";
import { startServer } from "../src/server/serve.js";
import { buildRandomLlama } from "./random-model.js";

const args = process.argv.slice(2);
const opt = (name: string, def: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1]! : def;
};
const TYPE = opt("type", "q4_K_M");
const RUNS = Number(opt("runs", "3"));
const THREADS = Number(opt("threads", "2"));
const VOCAB = fileURLToPath(new URL("../../../shared/models/vocab/ggml-vocab-llama-spm.gguf", import.meta.url));
const SHAPE = { dim: 512, layers: 4, heads: 8, kvHeads: 8, ffn: 1536, contextLength: 512, weightType: "F32" as const, seed: 3, vocabFile: VOCAB };

const dir = await mkdtemp(join(tmpdir(), "corral-bench-quant-"));
const input = join(dir, "f32.gguf");
const params = await buildRandomLlama(input, SHAPE);
const header = await readGguf(input);
const lib = loadLlamaQuantLib();
lib.onLog(() => {}); // the reference would otherwise print every tensor
const server = await startServer(loadConfig({ ...process.env, OLLAMA_HOST: "127.0.0.1:0", OLLAMA_MODELS: join(dir, "models") }));

async function post(path: string, body: unknown) {
  const res = await fetch(server.url + path, { method: "POST", body: JSON.stringify(body) });
  const text = await res.text();
  if (!res.ok) throw new Error(`${path} -> ${res.status} ${text}`);
  return text;
}

const time = async (fn: () => Promise<unknown> | unknown) => {
  const t = performance.now();
  await fn();
  return performance.now() - t;
};
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

try {
  const hash = createHash("sha256");
  for await (const c of createReadStream(input)) hash.update(c as Buffer);
  const digest = `sha256:${hash.digest("hex")}`;
  await fetch(`${server.url}/api/blobs/${digest}`, { method: "POST", body: createReadStream(input) as unknown as ReadableStream, duplex: "half" } as RequestInit);
  await post("/api/create", { model: "f32", files: { "model.gguf": digest }, stream: false });

  const { ftype } = parseQuantizeType(TYPE);
  const ref: number[] = [];
  const ours: number[] = [];
  const create: number[] = [];
  for (let r = 0; r <= RUNS; r++) {
    const a = await time(() => {
      const rc = lib.quantize(input, join(dir, "ref.gguf"), { ...lib.defaults, ftype, nthread: THREADS, max_buf_size: 256 * 1024 * 1024 });
      if (rc !== 0) throw new Error(`reference quantize failed: ${rc}`);
    });
    const b = await time(() => quantizeGguf(input, header, join(dir, "ours.gguf"), TYPE, { threads: THREADS }));
    const c = await time(() => post("/api/create", { model: `q${r}`, from: "f32", quantize: TYPE, stream: false }));
    if (r === 0) continue; // warm-up
    ref.push(a);
    ours.push(b);
    create.push(c);
  }
  const f = (xs: number[]) => xs.map((x) => x.toFixed(0)).join(", ");
  const mb = ((await stat(input)).size / 1e6).toFixed(1);
  console.log(
    [
      "corral quantize time",
      `  model            random llama dim ${SHAPE.dim}, ${SHAPE.layers} layers, ffn ${SHAPE.ffn}, F32; ${(params / 1e6).toFixed(1)}M params, ${mb} MB`,
      `  type             ${TYPE}, ${THREADS} threads, ${RUNS} alternating runs after one warm-up`,
      `  reference        median ${median(ref).toFixed(0)} ms, llama_model_quantize in-process (runs: ${f(ref)})`,
      `  quantizeGguf     median ${median(ours).toFixed(0)} ms, child process (runs: ${f(ours)})`,
      `  /api/create      median ${median(create).toFixed(0)} ms, quantize + hash + store (runs: ${f(create)})`,
      `  ratio            ${(median(ours) / median(ref)).toFixed(3)} quantizeGguf / reference, ${(median(create) / median(ref)).toFixed(3)} /api/create / reference (medians)`,
    ].join("\n"),
  );
} finally {
  await server.close();
  await rm(dir, { recursive: true, force: true });
}
