// One structured JSON line on stderr per finished request, and the X-Request-Id response header.
// Routes add what they know (the model, token counts) through noteModel and tapUsage. Headers and
// bodies are never logged, so neither are API keys.
import type { FastifyReply, FastifyRequest } from "fastify";
import type { Reply } from "../services/context.js";

interface Facts {
  model?: string;
  promptTokens?: number;
  evalTokens?: number;
}

const facts = new WeakMap<object, Facts>();

function factsOf(request: FastifyRequest): Facts {
  let f = facts.get(request.raw);
  if (!f) facts.set(request.raw, (f = {}));
  return f;
}

/** Records the model a request body names (`model`, or the older `name`). */
export function noteModel(request: FastifyRequest, body: unknown): void {
  if (!body || typeof body !== "object") return;
  const { model, name } = body as { model?: unknown; name?: unknown };
  const m = typeof model === "string" && model ? model : typeof name === "string" && name ? name : undefined;
  if (m) factsOf(request).model = m;
}

/** Passes a service reply through, noting the token counts its final chunk carries. */
export function tapUsage(request: FastifyRequest, result: Reply): Reply {
  if (result.kind !== "stream") return result;
  const f = factsOf(request);
  const source = result.chunks;
  async function* tapped() {
    for await (const c of source) {
      const { prompt_eval_count: p, eval_count: e } = c as { prompt_eval_count?: unknown; eval_count?: unknown };
      if (typeof p === "number") f.promptTokens = p;
      if (typeof e === "number") f.evalTokens = e;
      yield c;
    }
  }
  return { ...result, chunks: tapped() };
}

/** The onRequest hook: echoes the id and writes the log line once the response is over. */
export function requestLogHook(debug: boolean) {
  return async (request: FastifyRequest, reply: FastifyReply) => {
    reply.header("X-Request-Id", request.id);
    const start = process.hrtime.bigint();
    reply.raw.once("close", () => {
      const f = facts.get(request.raw) ?? {};
      const line: Record<string, unknown> = {
        time: new Date().toISOString(),
        level: "info",
        msg: "request",
        request_id: request.id,
        method: request.method,
        route: request.routeOptions.url ?? request.url.split("?")[0],
        status: reply.raw.statusCode,
        model: f.model,
        duration_ms: Math.round(Number(process.hrtime.bigint() - start) / 1e5) / 10,
        prompt_tokens: f.promptTokens,
        eval_tokens: f.evalTokens,
      };
      if (!reply.raw.writableFinished) line.aborted = true;
      if (debug) {
        line.remote_address = request.ip;
        line.user_agent = request.headers["user-agent"];
      }
      process.stderr.write(JSON.stringify(line) + "\n");
    });
  };
}
