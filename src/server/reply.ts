// Writing answers: Go-style JSON bodies, NDJSON streams, and errors before or after the first line.
import type { FastifyReply, FastifyRequest } from "fastify";
import { ApiError } from "../api/errors.js";
import { goJson } from "../store/gojson.js";
import type { Reply } from "./services/context.js";

export const JSON_TYPE = "application/json; charset=utf-8";

export function sendJson(reply: FastifyReply, status: number, body: unknown) {
  return reply.code(status).type(JSON_TYPE).send(goJson(body));
}

export function errorBody(err: unknown): { status: number; message: string } {
  if (err instanceof ApiError) return { status: err.status, message: err.message };
  // Fastify's own errors (bad request framing, ...) carry their status.
  const e = err as { statusCode?: number; message?: string };
  const status = e?.statusCode && e.statusCode < 500 ? e.statusCode : 500;
  return { status, message: e?.message ?? String(err) };
}

/**
 * An AbortSignal that fires when the client goes away before the answer is complete, so its
 * generation stops and its slot frees.
 */
export function disconnectSignal(request: FastifyRequest, reply: FastifyReply): AbortSignal {
  const ac = new AbortController();
  reply.raw.on("close", () => {
    if (!reply.raw.writableFinished) ac.abort();
  });
  request.raw.on("aborted", () => ac.abort());
  return ac.signal;
}

/** Streams a service reply as NDJSON, or folds it into one JSON object when `stream` is false. */
export async function sendReply(reply: FastifyReply, result: Reply, stream: boolean): Promise<void> {
  if (result.kind === "single") return void sendJson(reply, 200, result.body);
  if (!stream) return void sendJson(reply, 200, result.collect(await collectAll(result.chunks)));
  await writeStream(reply, result.chunks, {
    contentType: "application/x-ndjson",
    write: (obj) => goJson(obj) + "\n",
    // After the first line the status is sent: the error becomes the last line.
    error: (err) => goJson({ error: errorBody(err).message }) + "\n",
  });
}

export async function collectAll<T>(chunks: AsyncIterable<T>): Promise<T[]> {
  const all: T[] = [];
  for await (const c of chunks) all.push(c);
  return all;
}

export interface StreamFormat<T> {
  contentType: string;
  write: (item: T) => string;
  /** What to write when the stream fails after it started. */
  error: (err: unknown) => string;
  /** Written after the last item (e.g. SSE's `data: [DONE]`). */
  end?: string;
}

/**
 * Writes a stream of items. The first item is awaited before any header goes out, so an error before
 * it is an ordinary error reply with its status; later errors are written in the stream's own way.
 */
export async function writeStream<T>(reply: FastifyReply, items: AsyncIterable<T>, format: StreamFormat<T>): Promise<void> {
  const it = items[Symbol.asyncIterator]();
  const first = await it.next();
  reply.hijack();
  const res = reply.raw;
  res.writeHead(200, { ...(reply.getHeaders() as Record<string, string>), "Content-Type": format.contentType });
  res.on("error", () => undefined); // a client that left mid-stream is not a server error
  try {
    if (!first.done) {
      res.write(format.write(first.value));
      for (let n = await it.next(); !n.done; n = await it.next()) res.write(format.write(n.value));
    }
    if (format.end) res.write(format.end);
  } catch (err) {
    res.write(format.error(err));
  }
  res.end();
}

/** The chunks of a reply (a load-only reply is a single final chunk), for translators. */
export function replyChunks<T>(result: Reply): AsyncIterable<T> {
  if (result.kind === "stream") return result.chunks as AsyncIterable<T>;
  return (async function* () {
    yield result.body as T;
  })();
}

export function foldReply<T>(result: Reply): Promise<T> {
  if (result.kind === "single") return Promise.resolve(result.body as T);
  return collectAll(result.chunks).then((all) => result.collect(all) as T);
}
