// The native Ollama routes (/api/*): decode, call one service, write the answer.
import type { FastifyInstance } from "fastify";
import { decodeChatRequest, decodeGenerateRequest } from "../../api/inference.js";
import { AsyncQueue } from "../async-queue.js";
import { decodeCopyRequest, decodeCreateRequest, decodeDeleteRequest, decodeShowRequest, requestedModel, type ProgressResponse } from "../../api/models.js";
import { createModel } from "../../create/create.js";
import { VERSION } from "../../version.js";
import { idleGuarded, jsonBody } from "../body.js";
import { disconnectSignal, sendJson, sendReply } from "../reply.js";
import { tapUsage } from "../observe/request-log.js";
import type { ServerContext } from "../services/context.js";
import { chat, generate } from "../services/inference.js";
import { blobExists, copyModel, deleteModel, listModels, runningModels, showModel, uploadBlob } from "../services/models.js";

export async function registerNativeRoutes(app: FastifyInstance, ctx: ServerContext): Promise<void> {
  app.get("/api/version", (_req, reply) => sendJson(reply, 200, { version: VERSION }));

  app.post("/api/generate", async (request, reply) => {
    const req = decodeGenerateRequest(jsonBody(request));
    const result = tapUsage(request, await generate(ctx, req, disconnectSignal(request, reply)));
    await sendReply(reply, result, req.stream ?? true);
  });

  app.post("/api/chat", async (request, reply) => {
    const req = decodeChatRequest(jsonBody(request));
    const result = tapUsage(request, await chat(ctx, req, disconnectSignal(request, reply)));
    await sendReply(reply, result, req.stream ?? true);
  });

  app.post("/api/create", async (request, reply) => {
    const req = decodeCreateRequest(jsonBody(request));
    // Statuses stream as they happen (a pull inside a create, a quantization); an error before the
    // first one is still a plain error reply with its status.
    const progress = new AsyncQueue<ProgressResponse>();
    createModel(ctx.store, { ...req, model: requestedModel(req) }, (p) => progress.push(p)).then(
      () => progress.end(),
      (e) => progress.fail(e),
    );
    await sendReply(reply, { kind: "stream", chunks: progress, collect: (all) => all[all.length - 1]! }, req.stream ?? true);
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
    scope.addContentTypeParser("*", { bodyLimit: Number.MAX_SAFE_INTEGER }, (_req, payload, done) =>
      done(null, idleGuarded(payload, ctx.config.bodyIdleTimeout)),
    );
    scope.post<{ Params: { digest: string } }>("/api/blobs/:digest", async (request, reply) => {
      const body = (request.body as AsyncIterable<Uint8Array> | undefined) ?? emptyBody();
      const status = await uploadBlob(ctx, request.params.digest, body);
      reply.code(status).send();
    });
  });
}

async function* emptyBody(): AsyncGenerator<Uint8Array> {}
