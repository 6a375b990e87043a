// The sides bench/engine.ts compares: a corral server (either engine), llama.cpp's llama-bench, and
// llama-server driven directly, all from the same build and on the same model files.
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { freePort } from "../test/support/server.js";

const ROOT = resolve(fileURLToPath(new URL(".", import.meta.url)), "../..");

async function waitFor(url: string, proc: ChildProcess, log: () => string, ms = 120_000): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`exited: ${log()}`);
    if ((await fetch(url).then((r) => r.status, () => 0)) === 200) return;
    if (Date.now() > deadline) throw new Error(`no answer from ${url}: ${log()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Streams a POST and returns the time to the first chunk and the whole text. */
export async function streamTimed(url: string, body: object): Promise<{ ttftMs: number; totalMs: number; chunks: string[] }> {
  const t0 = performance.now();
  const res = await fetch(url, { method: "POST", body: JSON.stringify(body), headers: { "content-type": "application/json" } });
  if (!res.ok || !res.body) throw new Error(`${url} -> ${res.status} ${await res.text()}`);
  let ttftMs = 0;
  const chunks: string[] = [];
  const decoder = new TextDecoder();
  for await (const part of res.body as unknown as AsyncIterable<Uint8Array>) {
    ttftMs ||= performance.now() - t0;
    chunks.push(decoder.decode(part, { stream: true }));
  }
  return { ttftMs, totalMs: performance.now() - t0, chunks };
}

export interface Corral {
  base: string;
  pid: number;
  generate(body: object): Promise<Record<string, number>>;
  close(): Promise<void>;
}

/** A model to create: its GGUF, and a draft GGUF for speculative decoding. */
export type ModelFiles = string | { file: string; draft: string };

/** A corral server with its own models folder holding each given GGUF under its name. */
export async function startCorral(env: Record<string, string>, models: Record<string, ModelFiles>): Promise<Corral> {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const dir = await mkdtemp(join(tmpdir(), "corral-bench-models-"));
  let log = "";
  const child = spawn(process.execPath, [join(ROOT, "dist/src/cli/main.js"), "serve"], {
    env: { ...process.env, OLLAMA_HOST: `127.0.0.1:${port}`, OLLAMA_MODELS: dir, ...env },
    stdio: ["ignore", "ignore", "pipe"],
  });
  child.stderr!.on("data", (d: Buffer) => (log = (log + d.toString()).slice(-4000)));
  await waitFor(base + "/", child, () => log);
  const post = async (path: string, body: object) => {
    const res = await fetch(base + path, { method: "POST", body: JSON.stringify(body) });
    const text = await res.text();
    if (!res.ok) throw new Error(`${path} -> ${res.status} ${text}\n${log}`);
    return JSON.parse(text) as Record<string, number>;
  };
  const upload = async (file: string) => {
    const hash = createHash("sha256");
    for await (const c of createReadStream(file)) hash.update(c as Buffer);
    const digest = `sha256:${hash.digest("hex")}`;
    const up = await fetch(`${base}/api/blobs/${digest}`, { method: "POST", body: createReadStream(file) as never, duplex: "half" } as RequestInit);
    if (up.status !== 201 && up.status !== 200) throw new Error(`blob upload -> ${up.status}`);
    return digest;
  };
  for (const [name, m] of Object.entries(models)) {
    const files = { "model.gguf": await upload(typeof m === "string" ? m : m.file) };
    const draft = typeof m === "string" ? {} : { draft_files: { "draft.gguf": await upload(m.draft) } };
    await post("/api/create", { model: name, files, ...draft, stream: false });
  }
  return {
    base,
    pid: child.pid!,
    generate: (body) => post("/api/generate", { stream: false, ...body }),
    async close() {
      child.kill("SIGTERM");
      await new Promise((r) => child.once("exit", r));
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** llama-bench's decode speed (tg) for n tokens at t threads, one repetition; the best row when `extra` asks for several. */
export async function llamaBenchTg(bin: string, model: string, n: number, threads: number, extra: string[] = []): Promise<number> {
  const args = ["-m", model, "-p", "0", "-n", String(n), "-t", String(threads), "-r", "1", "-o", "json", ...extra];
  const { stdout } = await promisify(execFile)(bin, args, { maxBuffer: 1 << 24 });
  const rows = JSON.parse(stdout) as { avg_ts: number }[];
  return Math.max(...rows.map((r) => r.avg_ts));
}

export interface DirectServer {
  base: string;
  close(): Promise<void>;
}

/** llama-server on a loopback port with the given arguments, as a user would run it. */
export async function startLlamaServer(bin: string, args: string[]): Promise<DirectServer> {
  const port = await freePort();
  let log = "";
  const child = spawn(bin, [...args, "--host", "127.0.0.1", "--port", String(port)], { stdio: ["ignore", "pipe", "pipe"] });
  child.stdout!.on("data", (d: Buffer) => (log = (log + d.toString()).slice(-4000)));
  child.stderr!.on("data", (d: Buffer) => (log = (log + d.toString()).slice(-4000)));
  const base = `http://127.0.0.1:${port}`;
  await waitFor(base + "/health", child, () => log);
  return {
    base,
    async close() {
      child.kill("SIGTERM");
      await new Promise((r) => child.once("exit", r));
    },
  };
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}
