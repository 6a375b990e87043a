// POST /v1/responses (OpenAI's Responses API) over native chat: translate the request, run it, and
// answer with a response object or the Responses stream events. Registered inside the OpenAI route
// scope, so errors take OpenAI's shape.
import type { FastifyInstance } from "fastify";
import type { ChatResponse } from "../../api/inference.js";
import { openAIError } from "../../api/openai.js";
import { decodeResponsesRequest } from "../../api/responses.js";
import { jsonBody } from "../body.js";
import { toResponseEvents } from "../openai/responses/events.js";
import { toNativeChat } from "../openai/responses/request.js";
import { responseId, toResponse, unixNow } from "../openai/responses/response.js";
import { tapUsage } from "../observe/request-log.js";
import { disconnectSignal, errorBody, foldReply, replyChunks, sendJson, writeStream } from "../reply.js";
import type { ServerContext } from "../services/context.js";
import { chat } from "../services/inference.js";
import { zstdBody } from "../zstd-body.js";

export function registerResponsesRoute(scope: FastifyInstance, ctx: ServerContext): void {
  scope.post("/v1/responses", { preHandler: zstdBody }, async (request, reply) => {
    const body = decodeResponsesRequest(jsonBody(request));
    const req = toNativeChat(body);
    const shell = { id: responseId(), model: body.model ?? "", createdAt: unixNow(), request: body };
    const result = tapUsage(request, await chat(ctx, req, disconnectSignal(request, reply)));
    if (!req.stream) return sendJson(reply, 200, toResponse(await foldReply<ChatResponse>(result), shell));
    reply.header("Cache-Control", "no-cache");
    await writeStream(reply, toResponseEvents(replyChunks<ChatResponse>(result), shell), {
      contentType: "text/event-stream",
      write: (e) => `event: ${e.event}\ndata: ${JSON.stringify(e.data)}\n\n`,
      // Failures after the first event are written by the events themselves (response.failed).
      error: (err) => {
        const { status, message } = errorBody(err);
        const { type, param } = openAIError(status, message).error;
        return `event: error\ndata: ${JSON.stringify({ type: "error", code: type, message, param })}\n\n`;
      },
    });
  });
}
