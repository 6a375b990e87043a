// One HTTP exchange with a registry or a blob store: no redirects followed, no auth added (the caller
// decides both), keep-alive sockets, and transport errors worded like Go's so messages match Ollama's.
import http, { type IncomingMessage } from "node:http";
import https from "node:https";
import type { Readable } from "node:stream";

export interface HttpRequest {
  method: string;
  url: URL;
  headers?: Record<string, string>;
  /** A fresh body per call, so a request can be sent again after a 401 or a redirect. */
  body?: Buffer | (() => Readable);
  signal?: AbortSignal;
  /** Socket idle time before the request fails (ms); downloads watch stalls themselves and pass 0. */
  idleTimeout?: number;
}

const agents = {
  "http:": new http.Agent({ keepAlive: true, maxSockets: 64 }),
  "https:": new https.Agent({ keepAlive: true, maxSockets: 64 }),
};

const DEFAULT_IDLE_TIMEOUT = 60_000;

/** Go's spelling of a method in client errors: `Get "https://…": …`. */
const goMethod = (m: string) => m.charAt(0) + m.slice(1).toLowerCase();

/** The part of a transport error after the URL, as Go's net package words it. */
function goNetMessage(e: NodeJS.ErrnoException & { address?: string; port?: number; hostname?: string }): string {
  const addr = e.address ? `${e.address.includes(":") ? `[${e.address}]` : e.address}:${e.port}` : "";
  switch (e.code) {
    case "ECONNREFUSED":
      return `dial tcp ${addr}: connect: connection refused`;
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return `dial tcp: lookup ${e.hostname ?? ""}: no such host`;
    case "ECONNRESET":
      return "read: connection reset by peer";
    case "ETIMEDOUT":
      return "i/o timeout";
    default:
      return e.message;
  }
}

/** Whether an error is the caller giving up rather than a fault. */
export const isAbort = (e: unknown) => (e as Error)?.name === "AbortError";

function abortError(signal: AbortSignal): Error {
  const reason = signal.reason as unknown;
  if (reason instanceof Error) return reason;
  const e = new Error("context canceled");
  e.name = "AbortError";
  return e;
}

/** Sends one request and resolves with the response head; the caller reads or discards the body. */
export function send(r: HttpRequest): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    if (r.signal?.aborted) return reject(abortError(r.signal));
    const mod = r.url.protocol === "https:" ? https : http;
    const agent = agents[r.url.protocol as keyof typeof agents];
    if (!agent) return reject(new Error(`unsupported protocol scheme "${r.url.protocol.replace(":", "")}"`));
    const headers = { ...r.headers };
    const body = typeof r.body === "function" ? r.body() : r.body;
    if (Buffer.isBuffer(body)) headers["Content-Length"] = String(body.length);
    const req = mod.request(r.url, { method: r.method, headers, agent });
    const where = `${goMethod(r.method)} "${r.url.href}"`;
    const fail = (e: Error) => {
      if (isAbort(e)) return reject(e);
      reject(new Error(`${where}: ${goNetMessage(e)}`, { cause: e }));
    };
    const onAbort = () => req.destroy(abortError(r.signal!));
    r.signal?.addEventListener("abort", onAbort, { once: true });
    req.setTimeout(r.idleTimeout ?? DEFAULT_IDLE_TIMEOUT, () => {
      const e = Object.assign(new Error("i/o timeout"), { code: "ETIMEDOUT" });
      req.destroy(e);
    });
    req.on("error", (e) => {
      r.signal?.removeEventListener("abort", onAbort);
      if (body && !Buffer.isBuffer(body)) body.destroy();
      fail(e);
    });
    req.on("response", (res) => {
      // The response keeps the abort wiring: cancelling mid-body destroys the socket.
      res.on("close", () => r.signal?.removeEventListener("abort", onAbort));
      resolve(res);
    });
    if (body === undefined) req.end();
    else if (Buffer.isBuffer(body)) req.end(body);
    else {
      body.on("error", (e) => req.destroy(e));
      body.pipe(req);
    }
  });
}

/** Reads a (small) response body to a string. */
export async function readText(res: IncomingMessage): Promise<string> {
  return (await readBody(res)).toString("utf8");
}

export async function readBody(res: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of res) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** Drops a response body; small ones (and HEAD's none) are read so the socket can be reused. */
export function discard(res: IncomingMessage): void {
  const len = Number(res.headers["content-length"] ?? NaN);
  const method = (res as IncomingMessage & { req?: { method?: string } }).req?.method;
  if (len <= 64 * 1024 || method === "HEAD") res.resume();
  else res.destroy();
}
