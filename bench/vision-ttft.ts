// Time to first token of a conversation's second turn against its first, for an image prompt: the
// first turn encodes the image; the second repeats it in the same place, so llama-server's prompt
// cache should skip both the image and the text before it. Printed as a ratio (second / first).
import { createHash } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import sharp from "sharp";
import { loadConfig } from "../src/config.js";
import { startServer } from "../src/server/serve.js";
import { intArg } from "./args.js";
import { buildRandomLlama } from "./random-model.js";

const RUNS = intArg("--runs", 5);
const LAYERS = intArg("--layers", 8);
// The tiny gemma3 projector's output width is 128: the text model must match it.
const PROJECTOR = fileURLToPath(new URL("../../../shared/models/multimodal/mmproj-tinygemma3.gguf", import.meta.url));
const STORIES = fileURLToPath(new URL("../../../shared/models/stories260K.gguf", import.meta.url));

const dir = await mkdtemp(join(tmpdir(), "corral-bench-vision-"));
const modelPath = join(dir, "vision-llama.gguf");
await buildRandomLlama(modelPath, {
  dim: 128, layers: LAYERS, heads: 4, kvHeads: 4, ffn: 512, contextLength: 4096, weightType: "F32", seed: 7, vocabFile: STORIES,
});
const server = await startServer(loadConfig({ ...process.env, OLLAMA_HOST: "127.0.0.1:0", OLLAMA_MODELS: join(dir, "models") }));

async function upload(path: string): Promise<string> {
  const bytes = await readFile(path);
  const digest = `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
  await fetch(`${server.url}/api/blobs/${digest}`, { method: "POST", body: bytes });
  return digest;
}

interface Turn {
  ttftMs: number;
  text: string;
  promptTokens: number;
  promptEvalMs: number;
}

/** One streamed chat turn: milliseconds to the first content chunk, the reply and the prompt counts. */
async function turn(messages: unknown[]): Promise<Turn> {
  const t0 = performance.now();
  const res = await fetch(`${server.url}/api/chat`, {
    method: "POST",
    body: JSON.stringify({ model: "vis", messages, stream: true, options: { temperature: 0, num_predict: 8, seed: 1 } }),
  });
  if (!res.ok || !res.body) throw new Error(`/api/chat -> ${res.status} ${await res.text()}`);
  let ttftMs = 0;
  let text = "";
  let buf = "";
  let last: Record<string, unknown> = {};
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    buf += Buffer.from(chunk).toString("utf8");
    for (let i = buf.indexOf("\n"); i >= 0; i = buf.indexOf("\n")) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      if (!line) continue;
      last = JSON.parse(line) as Record<string, unknown>;
      const content = (last.message as { content?: string } | undefined)?.content ?? "";
      if (content && !ttftMs) ttftMs = performance.now() - t0;
      text += content;
    }
  }
  return { ttftMs, text, promptTokens: Number(last.prompt_eval_count ?? 0), promptEvalMs: Number(last.prompt_eval_duration ?? 0) / 1e6 };
}

try {
  const files = { "vision-llama.gguf": await upload(modelPath), "mmproj.gguf": await upload(PROJECTOR) };
  const created = await fetch(`${server.url}/api/create`, { method: "POST", body: JSON.stringify({ model: "vis", files, stream: false }) });
  if (!created.ok) throw new Error(`create -> ${created.status} ${await created.text()}`);
  await turn([{ role: "user", content: "hello" }]); // load

  const first: Turn[] = [];
  const second: Turn[] = [];
  for (let r = 0; r < RUNS; r++) {
    // A new image each run, so the first turn never finds it cached.
    const image = (await sharp({ create: { width: 512, height: 384, channels: 3, background: { r: 40 * r, g: 255 - 30 * r, b: 90 } } }).jpeg().toBuffer()).toString("base64");
    const ask = { role: "user", content: "What is in this picture?", images: [image] };
    const t1 = await turn([ask]);
    const t2 = await turn([ask, { role: "assistant", content: t1.text }, { role: "user", content: "Tell me more." }]);
    first.push(t1);
    second.push(t2);
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const f = (x: number) => x.toFixed(1);
  const ttft1 = median(first.map((t) => t.ttftMs));
  const ttft2 = median(second.map((t) => t.ttftMs));
  console.log(
    [
      "corral vision time to first token",
      `  model            random llama (dim 128, ${LAYERS} layers) + tiny gemma3 projector (256 tokens per image)`,
      `  conversation     one 512x384 JPEG, then a follow-up turn; ${RUNS} runs, a new image each`,
      `  first turn       median TTFT ${f(ttft1)} ms (runs: ${first.map((t) => f(t.ttftMs)).join(", ")}), prompt ${first[0]!.promptTokens} tokens, eval ${f(median(first.map((t) => t.promptEvalMs)))} ms`,
      `  second turn      median TTFT ${f(ttft2)} ms (runs: ${second.map((t) => f(t.ttftMs)).join(", ")}), prompt ${second[0]!.promptTokens} tokens, eval ${f(median(second.map((t) => t.promptEvalMs)))} ms`,
      `  ratio            ${(ttft2 / ttft1).toFixed(2)} (second turn / first turn)`,
    ].join("\n"),
  );
} finally {
  await server.close();
  await rm(dir, { recursive: true, force: true });
}
