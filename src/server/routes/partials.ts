// Partial downloads: GET /api/partials lists the unfinished blob downloads on disk, DELETE
// /api/partials/:digest removes one (409 while a pull is downloading it).
import type { FastifyInstance } from "fastify";
import { sendJson } from "../reply.js";
import type { ServerContext } from "../services/context.js";
import { listPartials, removePartial } from "../services/partials.js";

export async function registerPartialRoutes(app: FastifyInstance, ctx: ServerContext): Promise<void> {
  app.get("/api/partials", async (_req, reply) => sendJson(reply, 200, await listPartials(ctx)));

  app.delete<{ Params: { digest: string } }>("/api/partials/:digest", async (request, reply) => {
    await removePartial(ctx, request.params.digest);
    reply.code(200).send();
  });
}
