// The Anthropic-compatible route (POST /v1/messages): translate, call native chat, translate back.
import type { FastifyInstance } from "fastify";
import { anthropicError, type MessagesRequest } from "../../api/anthropic.js";
import { ApiError } from "../../api/errors.js";
import type { ChatRequest, ChatResponse } from "../../api/inference.js";
import { messageId, toMessage, toMessageEvents, toNativeChat } from "../anthropic/messages.js";
import { jsonBody } from "../body.js";
import { disconnectSignal, errorBody, foldReply, replyChunks, sendJson, writeStream } from "../reply.js";
import type { Reply, ServerContext } from "../services/context.js";
import { chat } from "../services/inference.js";
import { tapUsage } from "../observe/request-log.js";

/** Thinking asked of a model that cannot think is dropped here, not refused (Anthropic clients ask by default). */
async function chatDroppingThink(ctx: ServerContext, req: ChatRequest, signal: AbortSignal): Promise<Reply> {
  try {
    return await chat(ctx, req, signal);
  } catch (e) {
    if (req.think && e instanceof ApiError && e.status === 400 && e.message.endsWith("does not support thinking")) {
      return chat(ctx, { ...req, think: undefined }, signal);
    }
    throw e;
  }
}

export async function registerAnthropicRoutes(app: FastifyInstance, ctx: ServerContext): Promise<void> {
  await app.register(async (scope) => {
    scope.setErrorHandler((err, _request, reply) => {
      const { status, message } = errorBody(err);
      return sendJson(reply, status, anthropicError(status, message));
    });

    scope.post("/v1/messages", async (request, reply) => {
      const body = (jsonBody(request) ?? {}) as MessagesRequest;
      const req = toNativeChat(body);
      const result = tapUsage(request, await chatDroppingThink(ctx, req, disconnectSignal(request, reply)));
      const id = messageId();
      const model = body.model ?? "";
      if (!req.stream) return sendJson(reply, 200, toMessage(await foldReply<ChatResponse>(result), id, model));
      await writeStream(reply, toMessageEvents(replyChunks<ChatResponse>(result), id, model), {
        contentType: "text/event-stream",
        write: (e) => `event: ${e.event}\ndata: ${JSON.stringify(e.data)}\n\n`,
        error: (err) => {
          const { status, message } = errorBody(err);
          return `event: error\ndata: ${JSON.stringify(anthropicError(status, message))}\n\n`;
        },
      });
    });
  });
}
