// The rerank routes: /api/rerank with Ollama's error shape, /v1/rerank with OpenAI's.
import type { FastifyInstance } from "fastify";
import { openAIError } from "../../api/openai.js";
import { decodeRerankRequest } from "../../api/rerank.js";
import { jsonBody } from "../body.js";
import { disconnectSignal, errorBody, sendJson } from "../reply.js";
import type { ServerContext } from "../services/context.js";
import { rerank } from "../services/rerank.js";

export async function registerRerankRoutes(app: FastifyInstance, ctx: ServerContext): Promise<void> {
  app.post("/api/rerank", async (request, reply) => {
    const req = decodeRerankRequest(jsonBody(request));
    sendJson(reply, 200, await rerank(ctx, req, disconnectSignal(request, reply)));
  });
  await app.register(async (scope) => {
    scope.setErrorHandler((err, _request, reply) => {
      const { status, message } = errorBody(err);
      return sendJson(reply, status, openAIError(status, message));
    });
    scope.post("/v1/rerank", async (request, reply) => {
      const req = decodeRerankRequest(jsonBody(request) ?? {});
      sendJson(reply, 200, await rerank(ctx, req, disconnectSignal(request, reply)));
    });
  });
}
