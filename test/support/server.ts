// Starts the real corral server as a child process on a free loopback port with its own models
// directory, and helps tests import models through the HTTP API.
import { spawn, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { request as httpsRequest } from "node:https";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = fileURLToPath(new URL(".", import.meta.url));
/** The repository root (tests run from dist/test/support). */
export const ROOT = resolve(here, "../../..");
export const SHARED = resolve(ROOT, "../shared");
export const STORIES = join(SHARED, "models/stories260K.gguf");

export async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === "object" && addr ? res(addr.port) : rej(new Error("no port"))));
    });
  });
}

export interface TestServer {
  url: string;
  port: number;
  models: string;
  proc: ChildProcess;
  output: () => string;
  /** SIGKILL, and resolves once the process is gone (the models directory stays). */
  kill(): Promise<void>;
  stop(): Promise<void>;
}

/** GET over https trusting `ca` (node's fetch takes no CA); resolves with the status and body. */
export function httpsGet(url: string, ca: string, headers: Record<string, string> = {}): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(url, { ca, headers }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (d) => (text += d));
      res.on("end", () => resolve({ status: res.statusCode!, text }));
    });
    req.on("error", reject);
    req.end();
  });
}

export interface TestServerOptions {
  models?: string;
  /** Address to bind (default 127.0.0.1); the test still talks to 127.0.0.1. */
  bind?: string;
  /** The server speaks HTTPS with a certificate from this CA (PEM text). */
  ca?: string;
  /** How long the server may take to answer its first request (default 20 s). */
  startTimeoutMs?: number;
}

const exited = (proc: ChildProcess) => proc.exitCode !== null || proc.signalCode !== null;

/** Sends `signal` unless the process is gone already, and resolves when it is. */
async function endProcess(proc: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (exited(proc)) return;
  const gone = new Promise((r) => proc.once("exit", r));
  proc.kill(signal);
  await gone;
}

export async function startTestServer(env: Record<string, string> = {}, opts: TestServerOptions = {}): Promise<TestServer> {
  const port = await freePort();
  const models = opts.models ?? (await mkdtemp(join(tmpdir(), "corral-test-models-")));
  const proc = spawn(process.execPath, [join(ROOT, "dist/src/cli/main.js"), "serve"], {
    env: { ...process.env, OLLAMA_HOST: `${opts.bind ?? "127.0.0.1"}:${port}`, OLLAMA_MODELS: models, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  proc.stdout!.on("data", (d) => (out += d));
  proc.stderr!.on("data", (d) => (out += d));
  const url = `${opts.ca ? "https" : "http"}://127.0.0.1:${port}`;
  const deadline = Date.now() + (opts.startTimeoutMs ?? 20_000);
  for (;;) {
    if (exited(proc)) throw new Error(`server exited: ${out}`);
    try {
      const probe = AbortSignal.timeout(2_000);
      if (opts.ca ? (await httpsGet(url, opts.ca)).status === 200 : (await fetch(url, { signal: probe })).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      // A server that never answered is not left running behind the failed test.
      await endProcess(proc, "SIGKILL");
      throw new Error(`server did not start: ${out}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url,
    port,
    models,
    proc,
    output: () => out,
    kill: () => endProcess(proc, "SIGKILL"),
    async stop() {
      await endProcess(proc, "SIGTERM");
      if (!opts.models) await rm(models, { recursive: true, force: true });
    },
  };
}

export async function sha256File(path: string): Promise<string> {
  return createHash("sha256").update(await readFile(path)).digest("hex");
}

/** Uploads a file as a blob and returns its digest ("sha256:<hex>"). */
export async function uploadBlob(url: string, path: string): Promise<string> {
  const digest = `sha256:${await sha256File(path)}`;
  const res = await fetch(`${url}/api/blobs/${digest}`, {
    method: "POST",
    body: createReadStream(path) as unknown as ReadableStream,
    duplex: "half",
  } as RequestInit);
  if (res.status !== 201 && res.status !== 200) throw new Error(`blob upload failed: ${res.status} ${await res.text()}`);
  return digest;
}

/** Uploads a GGUF and creates a model from it (plus any other create fields). */
export async function createFromGguf(url: string, model: string, path: string, extra: Record<string, unknown> = {}) {
  const digest = await uploadBlob(url, path);
  const res = await post(url, "/api/create", { model, files: { "model.gguf": digest }, stream: false, ...extra });
  if (res.status !== 200) throw new Error(`create failed: ${res.status} ${await res.text()}`);
  return digest;
}

export function post(url: string, path: string, body: unknown, method = "POST"): Promise<Response> {
  return fetch(`${url}${path}`, { method, body: typeof body === "string" ? body : JSON.stringify(body) });
}

export async function postJson(
  url: string,
  path: string,
  body: unknown,
  method = "POST",
): Promise<{ status: number; json: any; text: string; headers: Headers }> {
  const res = await post(url, path, body, method);
  const text = await res.text();
  let json: any;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: res.status, json, text, headers: res.headers };
}

/** Reads an NDJSON response into its lines. */
export async function ndjson(res: Response): Promise<any[]> {
  const text = await res.text();
  return text.split("\n").filter(Boolean).map((l) => JSON.parse(l));
}
