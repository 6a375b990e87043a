// Operator views: /metrics (Prometheus text) and /api/queue (corral's own: per model, slots in use
// and requests waiting; /api/ps keeps Ollama's shape). Both need a key when keys are on.
import type { FastifyInstance } from "fastify";
import { sendJson } from "../reply.js";
import type { ServerContext } from "../services/context.js";

export async function registerObserveRoutes(app: FastifyInstance, ctx: ServerContext): Promise<void> {
  app.get("/metrics", async (_req, reply) => {
    const text = await ctx.metrics.text();
    return reply.type(ctx.metrics.contentType).send(text);
  });
  app.get("/api/queue", (_req, reply) => sendJson(reply, 200, { models: ctx.scheduler.queue() }));
}
