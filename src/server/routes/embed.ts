// The embedding routes: /api/embed and the legacy /api/embeddings.
import type { FastifyInstance } from "fastify";
import { decodeEmbeddingsRequest, decodeEmbedRequest } from "../../api/embed.js";
import { jsonBody } from "../body.js";
import { disconnectSignal, sendJson } from "../reply.js";
import type { ServerContext } from "../services/context.js";
import { embed, embeddings } from "../services/embed.js";

export async function registerEmbedRoutes(app: FastifyInstance, ctx: ServerContext): Promise<void> {
  app.post("/api/embed", async (request, reply) => {
    const req = decodeEmbedRequest(jsonBody(request));
    sendJson(reply, 200, await embed(ctx, req, disconnectSignal(request, reply)));
  });
  app.post("/api/embeddings", async (request, reply) => {
    const req = decodeEmbeddingsRequest(jsonBody(request));
    sendJson(reply, 200, await embeddings(ctx, req, disconnectSignal(request, reply)));
  });
}
