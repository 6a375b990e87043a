// One structured JSON line on stderr per finished request, the X-Request-Id response header, and the
// request and generation metrics. Routes add what they know (the model, token counts) through
// noteModel and tapUsage. Headers and bodies are never logged, so neither are API keys.
import type { FastifyReply, FastifyRequest } from "fastify";
import type { Reply } from "../services/context.js";
import type { Metrics } from "./metrics.js";

interface Facts {
  model?: string;
  promptTokens?: number;
  evalTokens?: number;
  /** When the request arrived (process.hrtime), for time to first token. */
  start?: bigint;
  metrics?: Metrics;
}

const seconds = (since: bigint) => Number(process.hrtime.bigint() - since) / 1e9;

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

const num = (v: unknown) => (typeof v === "number" ? v : undefined);

/**
 * Passes a service reply through, noting the token counts its final chunk carries; a generation's
 * first chunk and its final one also go to the metrics (under the model's stored name).
 */
export function tapUsage(request: FastifyRequest, result: Reply): Reply {
  if (result.kind !== "stream") return result;
  const f = factsOf(request);
  const source = result.chunks;
  const gen = result.generation;
  async function* tapped() {
    let first = true;
    for await (const c of source) {
      const { prompt_eval_count: p, eval_count: e, eval_duration: d, done } = c as Record<string, unknown>;
      if (gen && f.metrics && f.start !== undefined) {
        if (first && gen.streamed) f.metrics.firstToken(gen.model, seconds(f.start));
        if (done === true) {
          const n = num(e) ?? 0;
          const evalNs = num(d) ?? 0;
          // Unstreamed text arrives whole at the end: its first token came before the decoding of the others.
          if (!gen.streamed) f.metrics.firstToken(gen.model, Math.max(0, seconds(f.start) - (n > 1 ? (evalNs * (n - 1)) / n / 1e9 : 0)));
          f.metrics.generated(gen.model, { promptTokens: num(p), evalTokens: n, evalNs });
        }
      }
      first = false;
      if (typeof p === "number") f.promptTokens = p;
      if (typeof e === "number") f.evalTokens = e;
      yield c;
    }
  }
  return { ...result, chunks: tapped() };
}

/** The onRequest hook: echoes the id, and logs and counts the request once the response is over. */
export function requestLogHook(debug: boolean, metrics?: Metrics) {
  return async (request: FastifyRequest, reply: FastifyReply) => {
    reply.header("X-Request-Id", request.id);
    const start = process.hrtime.bigint();
    const f0 = factsOf(request);
    f0.start = start;
    f0.metrics = metrics;
    reply.raw.once("close", () => {
      const f = facts.get(request.raw) ?? {};
      // The pattern, never the raw URL: one series per route however many paths clients try.
      metrics?.request(request.routeOptions.url ?? "unknown", request.method, reply.raw.statusCode, seconds(start));
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
