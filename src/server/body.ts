// Request bodies: JSON read whatever the Content-Type (as Ollama's lenient decoder does), with a size
// limit enforced as the bytes arrive and an idle timeout, so an endless or trickling body is cut off.
import type { IncomingMessage } from "node:http";
import type { Socket } from "node:net";
import type { Readable } from "node:stream";
import type { FastifyRequest } from "fastify";
import { ApiError } from "../api/errors.js";
import { parseRequestJson } from "../api/json.js";
import { noteModel } from "./observe/request-log.js";

// After a 413 the rest of the body is read and dropped for a while before the connection closes:
// closing a socket with unread input makes the kernel send a reset, and a reset can make the client
// drop the 413 it has not read yet.
const LINGER_MS = 5000;
const LINGER_BYTES = 64 * 1024 * 1024;
// After our half-close, how long the client gets to close its side before the socket is destroyed.
const CLOSE_GRACE_MS = 1000;

export interface BodyLimits {
  /** Bytes a JSON body may have. */
  maxJson: number;
  /** ms a body may go without data; Infinity = no limit. */
  idleMs: number;
}

/** Parses the request body as JSON whatever its Content-Type, as Ollama's lenient decoder does. */
export function jsonBody(request: FastifyRequest): unknown {
  const body = request.body as Buffer | undefined;
  const parsed = parseRequestJson(body ?? "");
  noteModel(request, parsed);
  return parsed;
}

const tooLarge = (limit: number) => new ApiError(413, `request body too large (limit ${limit} bytes)`);
const idleError = (ms: number) => new ApiError(408, `request body timed out: no data for ${ms / 1000}s`);

/**
 * Reads a JSON body of at most `limits.maxJson` bytes. A larger Content-Length is refused before a
 * byte is read, a body that grows past the limit as soon as it does, an idle body after `idleMs`.
 */
export function readJsonBody(raw: IncomingMessage, payload: Readable, limits: BodyLimits): Promise<Buffer> {
  const limit = limits.maxJson;
  if (Number(raw.headers["content-length"]) > limit) {
    lingerAfterReply(raw);
    return Promise.reject(tooLarge(limit));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const stop = watchIdle(limits.idleMs, () => finish(idleError(limits.idleMs)));
    const onData = (chunk: Buffer | string) => {
      stop.touch();
      const b = typeof chunk === "string" ? Buffer.from(chunk) : chunk;
      size += b.length;
      if (size > limit) {
        lingerAfterReply(raw);
        return finish(tooLarge(limit));
      }
      chunks.push(b);
    };
    const onEnd = () => finish(undefined);
    const onError = (err: Error) => finish(err);
    // A client gone mid-body: nobody reads the answer, but the buffered chunks are let go now.
    const onClose = () => finish(new ApiError(400, "request body aborted"));
    function finish(err: Error | undefined) {
      stop.clear();
      payload.off("data", onData).off("end", onEnd).off("error", onError).off("close", onClose);
      if (err) reject(err);
      else resolve(Buffer.concat(chunks, size));
    }
    payload.on("data", onData).on("end", onEnd).on("error", onError).on("close", onClose);
  });
}

/** A streamed body (a blob upload) that fails with 408 when no data comes for `idleMs`. */
export async function* idleGuarded(payload: AsyncIterable<Uint8Array>, idleMs: number): AsyncGenerator<Uint8Array> {
  const it = payload[Symbol.asyncIterator]();
  for (;;) {
    let timer: NodeJS.Timeout | undefined;
    const idle = new Promise<never>((_, reject) => {
      if (Number.isFinite(idleMs)) timer = setTimeout(() => reject(idleError(idleMs)), idleMs);
    });
    try {
      const next = await Promise.race([it.next(), idle]);
      if (next.done) return;
      yield next.value;
    } finally {
      clearTimeout(timer);
    }
  }
}

/**
 * For onSend: a reply written while the request body is still arriving (a 401 or 403 from a hook, a
 * 404, an error before the body was read) closes the connection after a linger. Kept alive, the
 * connection would read and drop an endless body forever.
 */
export function closeUnreadBody(raw: IncomingMessage, setHeader: (name: string, value: string) => void): void {
  const hasBody = Number(raw.headers["content-length"]) > 0 || raw.headers["transfer-encoding"] !== undefined;
  if (raw.complete || !hasBody) return;
  setHeader("connection", "close");
  lingerAfterReply(raw);
}

function watchIdle(ms: number, onIdle: () => void): { touch(): void; clear(): void } {
  if (!Number.isFinite(ms)) return { touch() {}, clear() {} };
  const timer = setTimeout(onIdle, ms);
  return { touch: () => timer.refresh(), clear: () => clearTimeout(timer) };
}

/**
 * Makes the connection of a refused request close gently: once the error reply is written, the
 * rest of the body is read and dropped for up to LINGER_MS / LINGER_BYTES, then the connection is
 * half-closed, and destroyed only when the client has closed its side or CLOSE_GRACE_MS passed.
 */
export function lingerAfterReply(raw: IncomingMessage): void {
  const socket = raw.socket as (Socket & { lingering?: boolean }) | null;
  if (!socket || socket.destroyed || socket.lingering) return;
  socket.lingering = true;
  // Whatever the body was piped into (a decoder) stops getting it; it is dropped here.
  raw.unpipe();
  let replied = false;
  let drained = raw.complete;
  let closed = false;
  const maybeClose = () => {
    if (!replied || !drained || closed) return;
    closed = true;
    clearTimeout(timer);
    socket.end();
    setTimeout(() => socket.destroy(), CLOSE_GRACE_MS).unref();
  };
  const drainDone = () => {
    drained = true;
    maybeClose();
  };
  const timer = setTimeout(drainDone, LINGER_MS);
  let dropped = 0;
  raw.on("data", (chunk: Buffer) => {
    dropped += chunk.length;
    if (dropped > LINGER_BYTES) drainDone();
  });
  raw.on("end", drainDone);
  raw.resume();
  socket.once("close", () => clearTimeout(timer));
  // Node calls destroySoon once a `Connection: close` reply is written, which would destroy the
  // socket with the body still arriving; this socket closes on the schedule above instead.
  socket.destroySoon = () => {
    replied = true;
    maybeClose();
  };
}
