// The OpenAI-compatible routes (/v1/*): translate, call the native service, translate back. Errors
// take OpenAI's shape; streams are server-sent events ending in `data: [DONE]`.
import type { FastifyInstance, FastifyReply } from "fastify";
import type { ChatResponse, GenerateResponse } from "../../api/inference.js";
import { openAIError, type OpenAIChatRequest, type OpenAICompletionRequest, type OpenAIEmbeddingRequest } from "../../api/openai.js";
import { jsonBody } from "../body.js";
import { chatCompletionId, toChatChunks, toChatCompletion, toNativeChat } from "../openai/chat.js";
import { completionId, toCompletion, toCompletionChunks, toNativeGenerate } from "../openai/completions.js";
import { toEmbeddingList, toNativeEmbed } from "../openai/embeddings.js";
import { listOpenAIModels, retrieveOpenAIModel } from "../openai/models.js";
import { disconnectSignal, errorBody, foldReply, replyChunks, sendJson, writeStream } from "../reply.js";
import type { ServerContext } from "../services/context.js";
import { embed } from "../services/embed.js";
import { tapUsage } from "../observe/request-log.js";
import { chat, generate } from "../services/inference.js";
import { registerResponsesRoute } from "./responses.js";

async function sse(reply: FastifyReply, events: AsyncIterable<object>) {
  await writeStream(reply, events, {
    contentType: "text/event-stream",
    write: (e) => `data: ${JSON.stringify(e)}\n\n`,
    error: (err) => {
      const { status, message } = errorBody(err);
      return `data: ${JSON.stringify(openAIError(status, message))}\n\n`;
    },
    end: "data: [DONE]\n\n",
  });
}

export async function registerOpenAIRoutes(app: FastifyInstance, ctx: ServerContext): Promise<void> {
  await app.register(async (scope) => {
    scope.setErrorHandler((err, _request, reply) => {
      const { status, message } = errorBody(err);
      return sendJson(reply, status, openAIError(status, message));
    });

    scope.post("/v1/chat/completions", async (request, reply) => {
      const body = (jsonBody(request) ?? {}) as OpenAIChatRequest;
      const req = toNativeChat(body);
      const result = tapUsage(request, await chat(ctx, req, disconnectSignal(request, reply)));
      const id = chatCompletionId();
      const model = body.model ?? "";
      if (!req.stream) return sendJson(reply, 200, toChatCompletion(await foldReply<ChatResponse>(result), id, model));
      await sse(reply, toChatChunks(replyChunks<ChatResponse>(result), id, model, Boolean(body.stream_options?.include_usage)));
    });

    scope.post("/v1/completions", async (request, reply) => {
      const body = (jsonBody(request) ?? {}) as OpenAICompletionRequest;
      const req = toNativeGenerate(body);
      const result = tapUsage(request, await generate(ctx, req, disconnectSignal(request, reply)));
      const id = completionId();
      const model = body.model ?? "";
      if (!req.stream) return sendJson(reply, 200, toCompletion(await foldReply<GenerateResponse>(result), id, model));
      await sse(reply, toCompletionChunks(replyChunks<GenerateResponse>(result), id, model, Boolean(body.stream_options?.include_usage)));
    });

    scope.post("/v1/embeddings", async (request, reply) => {
      const body = (jsonBody(request) ?? {}) as OpenAIEmbeddingRequest;
      const { req, base64 } = toNativeEmbed(body);
      const native = await embed(ctx, req, disconnectSignal(request, reply));
      sendJson(reply, 200, toEmbeddingList(native, body.model ?? "", base64));
    });

    registerResponsesRoute(scope, ctx);

    scope.get("/v1/models", async (_request, reply) => sendJson(reply, 200, await listOpenAIModels(ctx)));
    scope.get<{ Params: { model: string } }>("/v1/models/:model", async (request, reply) =>
      sendJson(reply, 200, await retrieveOpenAIModel(ctx, request.params.model)),
    );
  });
}
