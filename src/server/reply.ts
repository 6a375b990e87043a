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
  const e = err as { statusCode?: number; message?: string };
  return { status: 500, message: e?.message ?? String(err) };
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
  const it = result.chunks[Symbol.asyncIterator]();
  if (!stream) {
    const all: object[] = [];
    for (let n = await it.next(); !n.done; n = await it.next()) all.push(n.value);
    return void sendJson(reply, 200, result.collect(all));
  }
  // An error before the first line is an ordinary error reply with its status.
  const first = await it.next();
  reply.hijack();
  const res = reply.raw;
  res.writeHead(200, { ...(reply.getHeaders() as Record<string, string>), "Content-Type": "application/x-ndjson" });
  res.on("error", () => undefined); // a client that left mid-stream is not a server error
  const write = (obj: unknown) => res.write(goJson(obj) + "\n");
  try {
    if (!first.done) write(first.value);
    if (!first.done) for (let n = await it.next(); !n.done; n = await it.next()) write(n.value);
  } catch (err) {
    // After the first line the status is sent: the error becomes the last line.
    write({ error: errorBody(err).message });
  }
  res.end();
}
