// The HTTP server: request ids and logs, CORS, API keys, body handling with Ollama's leniency, error
// shapes, 404/405, and the route families.
import Fastify, { LogController, type FastifyInstance } from "fastify";
import { authHook } from "./auth/hook.js";
import type { ApiKeys } from "./auth/keys.js";
import { corsHook } from "./cors.js";
import { requestId } from "./observe/request-id.js";
import { requestLogHook } from "./observe/request-log.js";
import type { TlsFiles } from "./tls.js";
import { errorBody, sendJson } from "./reply.js";
import { closeUnreadBody, readJsonBody } from "./body.js";
import { registerAnthropicRoutes } from "./routes/anthropic.js";
import { registerEmbedRoutes } from "./routes/embed.js";
import { registerHealthRoutes } from "./routes/health.js";
import { registerNativeRoutes } from "./routes/native.js";
import { registerObserveRoutes } from "./routes/observe.js";
import { registerRegistryRoutes } from "./routes/registry.js";
import { registerPartialRoutes } from "./routes/partials.js";
import { registerRerankRoutes } from "./routes/rerank.js";
import { registerOpenAIRoutes } from "./routes/openai.js";
import { registerUiRoutes } from "./routes/ui.js";
import type { ServerContext } from "./services/context.js";

export interface ServerOptions {
  keys: ApiKeys;
  /** Certificate and key for HTTPS; plain HTTP without. */
  https?: TlsFiles;
}

export async function buildServer(ctx: ServerContext, opts: ServerOptions): Promise<FastifyInstance> {
  const app = Fastify({
    ...(opts.https ? { https: opts.https } : {}),
    logger: ctx.config.debug ? { level: "debug" } : false,
    // requestLogHook writes the one line per request; fastify's own two would double it.
    logController: new LogController({ disableRequestLogging: true }),
    requestIdHeader: false,
    genReqId: requestId,
    bodyLimit: ctx.config.maxJsonBody,
    return503OnClosing: false,
    // On shutdown, drop open connections (streams, idle keep-alives) instead of waiting for them.
    forceCloseConnections: true,
  });

  // Every registered path, so a known path with the wrong method answers 405 rather than 404.
  const known: RegExp[] = [];
  app.addHook("onRoute", (route) => {
    const pattern = route.url.replace(/[.*+?^${}()|[\]\\]/g, "\\$&").replace(/:[^/]+/g, "[^/]+");
    known.push(new RegExp(`^${pattern}$`));
  });

  app.removeAllContentTypeParsers();
  const limits = { maxJson: ctx.config.maxJsonBody, idleMs: ctx.config.bodyIdleTimeout };
  app.addContentTypeParser("*", (req, payload, done) => {
    readJsonBody(req.raw, payload, limits).then((body) => done(null, body), (err: Error) => done(err, undefined));
  });

  // Order matters: every answer (a 403 or 401 included) gets its request id and log line; CORS
  // preflights are answered before the key check.
  app.addHook("onRequest", requestLogHook(ctx.config.debug, ctx.metrics));
  app.addHook("onRequest", corsHook(ctx.config));
  app.addHook("onRequest", authHook(opts.keys));
  app.addHook("onSend", async (request, reply, payload) => {
    closeUnreadBody(request.raw, (name, value) => reply.header(name, value));
    return payload;
  });

  app.setErrorHandler((err, _request, reply) => {
    const { status, message } = errorBody(err);
    if (status >= 500 && ctx.config.debug) app.log.error(err);
    return sendJson(reply, status, { error: message });
  });

  app.setNotFoundHandler((request, reply) => {
    if (known.some((r) => r.test(request.url.split("?")[0]!))) {
      return reply.code(405).type("text/plain").send("405 method not allowed");
    }
    return reply.code(404).type("text/plain").send("404 page not found");
  });

  await registerHealthRoutes(app, ctx);
  await registerObserveRoutes(app, ctx);
  await registerNativeRoutes(app, ctx);
  await registerRegistryRoutes(app, ctx);
  await registerPartialRoutes(app, ctx);
  await registerEmbedRoutes(app, ctx);
  await registerRerankRoutes(app, ctx);
  await registerOpenAIRoutes(app, ctx);
  await registerAnthropicRoutes(app, ctx);
  await registerUiRoutes(app);

  return app as unknown as FastifyInstance;
}
