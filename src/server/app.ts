// The HTTP server: body handling with Ollama's leniency, the route table, and error shapes.
import Fastify, { type FastifyInstance, type FastifyRequest } from "fastify";
import { ApiError } from "../api/errors.js";
import { parseRequestJson } from "../api/json.js";
import { decodeChatRequest, decodeGenerateRequest } from "../api/inference.js";
import { decodeCopyRequest, decodeCreateRequest, decodeDeleteRequest, decodeShowRequest, requestedModel } from "../api/models.js";
import { createModel } from "../create/create.js";
import { corsHook } from "./cors.js";
import { disconnectSignal, errorBody, sendJson, sendReply } from "./reply.js";
import type { ServerContext } from "./services/context.js";
import { chat, generate } from "./services/inference.js";
import { blobExists, copyModel, deleteModel, listModels, runningModels, showModel, uploadBlob } from "./services/models.js";
import { VERSION } from "../version.js";

/** JSON bodies above this are refused (413); blob uploads stream and have no limit. */
export const MAX_JSON_BODY = 256 * 1024 * 1024;

const ROUTES: Record<string, string[]> = {
  "/": ["GET", "HEAD"],
  "/api/version": ["GET", "HEAD"],
  "/api/generate": ["POST"],
  "/api/chat": ["POST"],
  "/api/create": ["POST"],
  "/api/tags": ["GET", "HEAD"],
  "/api/show": ["POST"],
  "/api/copy": ["POST"],
  "/api/delete": ["DELETE"],
  "/api/ps": ["GET"],
};

function knownPath(url: string): boolean {
  const path = url.split("?")[0]!;
  return path in ROUTES || /^\/api\/blobs\/[^/]+$/.test(path);
}

/** Parses the request body as JSON whatever its Content-Type, as Ollama's lenient decoder does. */
function jsonBody(request: FastifyRequest): unknown {
  const body = request.body as Buffer | undefined;
  return parseRequestJson(body ?? "");
}

export async function buildServer(ctx: ServerContext): Promise<FastifyInstance> {
  const app = Fastify({
    logger: ctx.config.debug ? { level: "debug" } : false,
    bodyLimit: MAX_JSON_BODY,
    return503OnClosing: false,
    // On shutdown, drop open connections (streams, idle keep-alives) instead of waiting for them.
    forceCloseConnections: true,
  });

  app.removeAllContentTypeParsers();
  app.addContentTypeParser("*", (_req, payload, done) => {
    readLimited(payload, MAX_JSON_BODY).then((body) => done(null, body), (err: Error) => done(err, undefined));
  });

  app.addHook("onRequest", corsHook(ctx.config));

  app.setErrorHandler((err, _request, reply) => {
    const fst = err as { code?: string; statusCode?: number };
    if (!(err instanceof ApiError) && fst.statusCode && fst.statusCode < 500) {
      return sendJson(reply, fst.statusCode, { error: (err as Error).message });
    }
    const { status, message } = errorBody(err);
    if (status >= 500 && ctx.config.debug) app.log.error(err);
    return sendJson(reply, status, { error: message });
  });

  app.setNotFoundHandler((request, reply) => {
    if (knownPath(request.url)) return reply.code(405).type("text/plain").send("405 method not allowed");
    return reply.code(404).type("text/plain").send("404 page not found");
  });

  app.get("/", (_req, reply) => reply.type("text/plain; charset=utf-8").send("Ollama is running"));
  app.get("/api/version", (_req, reply) => sendJson(reply, 200, { version: VERSION }));

  app.post("/api/generate", async (request, reply) => {
    const req = decodeGenerateRequest(jsonBody(request));
    const result = await generate(ctx, req, disconnectSignal(request, reply));
    await sendReply(reply, result, req.stream ?? true);
  });

  app.post("/api/chat", async (request, reply) => {
    const req = decodeChatRequest(jsonBody(request));
    const result = await chat(ctx, req, disconnectSignal(request, reply));
    await sendReply(reply, result, req.stream ?? true);
  });

  app.post("/api/create", async (request, reply) => {
    const req = decodeCreateRequest(jsonBody(request));
    const statuses = await createModel(ctx.store, { ...req, model: requestedModel(req) });
    await sendReply(reply, { kind: "stream", chunks: toAsync(statuses), collect: (all) => all[all.length - 1]! }, req.stream ?? true);
  });

  app.get("/api/tags", async (_req, reply) => sendJson(reply, 200, await listModels(ctx)));
  app.get("/api/ps", (_req, reply) => sendJson(reply, 200, runningModels(ctx)));

  app.post("/api/show", async (request, reply) => {
    sendJson(reply, 200, await showModel(ctx, decodeShowRequest(jsonBody(request))));
  });

  app.post("/api/copy", async (request, reply) => {
    await copyModel(ctx, decodeCopyRequest(jsonBody(request)));
    reply.code(200).send();
  });

  app.delete("/api/delete", async (request, reply) => {
    await deleteModel(ctx, decodeDeleteRequest(jsonBody(request)));
    reply.code(200).send();
  });

  app.head<{ Params: { digest: string } }>("/api/blobs/:digest", async (request, reply) => {
    ctx.store.blobPath(request.params.digest);
    if (await blobExists(ctx, request.params.digest)) return reply.code(200).send();
    return sendJson(reply, 404, { error: `blob "${request.params.digest}" not found` });
  });

  // Blob bodies are streamed to disk while hashed, never buffered: they may be many gigabytes.
  app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser("*", { bodyLimit: Number.MAX_SAFE_INTEGER }, (_req, payload, done) => done(null, payload));
    scope.post<{ Params: { digest: string } }>("/api/blobs/:digest", async (request, reply) => {
      const body = (request.body as AsyncIterable<Uint8Array> | undefined) ?? emptyBody();
      const status = await uploadBlob(ctx, request.params.digest, body);
      reply.code(status).send();
    });
  });

  return app;
}

/**
 * Reads a JSON body up to `limit` bytes. Past the limit the rest is still read and dropped, so the
 * client finishes sending and sees the 413 instead of a reset connection.
 */
async function readLimited(stream: AsyncIterable<Buffer>, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    size += chunk.length;
    if (size <= limit) chunks.push(chunk);
  }
  if (size > limit) throw new ApiError(413, `request body too large (limit ${limit} bytes)`);
  return Buffer.concat(chunks);
}

async function* emptyBody(): AsyncGenerator<Uint8Array> {}

async function* toAsync<T>(items: T[]): AsyncGenerator<T> {
  yield* items;
}
