// The registry routes (/api/pull, /api/push): decode, start the transfer, stream its progress.
import type { FastifyInstance } from "fastify";
import { badRequest } from "../../api/errors.js";
import type { ProgressResponse } from "../../api/models.js";
import { requestedModel } from "../../api/models.js";
import { decodePullRequest, decodePushRequest } from "../../api/registry.js";
import { attachRegistry, settingsFrom } from "../../registry/service.js";
import { parseModelName } from "../../store/name.js";
import { AsyncQueue } from "../async-queue.js";
import { jsonBody } from "../body.js";
import { disconnectSignal, sendReply } from "../reply.js";
import type { ServerContext } from "../services/context.js";

/** Progress lines of a running transfer; its failure ends the stream with an error. */
function progressOf(run: (progress: (p: ProgressResponse) => void) => Promise<void>): AsyncQueue<ProgressResponse> {
  const q = new AsyncQueue<ProgressResponse>();
  run((p) => q.push(p)).then(() => q.end(), (e) => q.fail(e));
  return q;
}

const last = (all: object[]) => all[all.length - 1] ?? {};

export async function registerRegistryRoutes(app: FastifyInstance, ctx: ServerContext): Promise<void> {
  const registry = attachRegistry(ctx.store, { ...settingsFrom(ctx.config), observer: ctx.metrics.registryObserver });

  app.post("/api/pull", async (request, reply) => {
    const req = decodePullRequest(jsonBody(request));
    const name = parseModelName(requestedModel(req));
    if (!name) throw badRequest("invalid model name");
    const signal = disconnectSignal(request, reply);
    const chunks = progressOf((p) => registry.pull(name, { insecure: req.insecure, signal }, p));
    await sendReply(reply, { kind: "stream", chunks, collect: last }, req.stream ?? true);
  });

  app.post("/api/push", async (request, reply) => {
    const req = decodePushRequest(jsonBody(request));
    const sent = requestedModel(req);
    if (!sent) throw badRequest("model is required");
    const name = parseModelName(sent);
    if (!name) throw badRequest("invalid model name");
    const signal = disconnectSignal(request, reply);
    const chunks = progressOf((p) => registry.push(name, { insecure: req.insecure, signal }, p));
    await sendReply(reply, { kind: "stream", chunks, collect: last }, req.stream ?? true);
  });
}
