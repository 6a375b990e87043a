// Liveness (/health: the process answers; open to all) and readiness (/ready: it can take work).
import type { FastifyInstance } from "fastify";
import { sendJson } from "../reply.js";
import type { ServerContext } from "../services/context.js";
import { readiness } from "../services/readiness.js";

export async function registerHealthRoutes(app: FastifyInstance, ctx: ServerContext): Promise<void> {
  // GET routes answer HEAD too (fastify's exposeHeadRoutes).
  app.get("/health", (_req, reply) => sendJson(reply, 200, { status: "ok" }));
  app.get("/ready", async (_req, reply) => {
    const r = await readiness(ctx);
    return r.ready ? sendJson(reply, 200, { status: "ready" }) : sendJson(reply, 503, { status: "not ready", reason: r.reason });
  });
}
