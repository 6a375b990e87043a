// API-key check for every route but the liveness ones, answering 401 in each API family's own error shape.
import type { FastifyReply, FastifyRequest } from "fastify";
import { anthropicError } from "../../api/anthropic.js";
import { openAIError } from "../../api/openai.js";
import { sendJson } from "../reply.js";
import type { ApiKeys } from "./keys.js";

/** Routes a load balancer or a human may probe without a key; the chat page (its API calls carry the key). */
function isOpen(method: string, path: string): boolean {
  if (method !== "GET" && method !== "HEAD") return false;
  return path === "/" || path === "/health" || path === "/ui" || path.startsWith("/ui/");
}

function bearer(header: string | undefined): string | undefined {
  const m = /^Bearer\s+(.+)$/i.exec(header ?? "");
  return m ? m[1]!.trim() : undefined;
}

function unauthorized(path: string, missing: boolean): object {
  const message = missing
    ? "missing API key: send it as 'Authorization: Bearer <key>'"
    : "invalid API key";
  if (path === "/v1/messages" || path.startsWith("/v1/messages/")) {
    return anthropicError(401, missing ? "missing API key: send it as 'x-api-key: <key>' or 'Authorization: Bearer <key>'" : message);
  }
  if (path.startsWith("/v1/")) {
    const body = openAIError(401, message);
    return { error: { ...body.error, type: "invalid_request_error", code: "invalid_api_key" } };
  }
  return { error: "unauthorized" };
}

export function authHook(keys: ApiKeys) {
  return async (request: FastifyRequest, reply: FastifyReply) => {
    // CORS preflights carry no credentials by design; the CORS hook before this one answers them.
    if (!keys.enabled || request.method === "OPTIONS") return;
    const path = request.url.split("?")[0]!;
    if (isOpen(request.method, path)) return;
    const anthropic = path === "/v1/messages" || path.startsWith("/v1/messages/");
    const apiKeyHeader = request.headers["x-api-key"];
    const presented =
      bearer(request.headers.authorization) ?? (anthropic && typeof apiKeyHeader === "string" ? apiKeyHeader.trim() : undefined);
    if (presented && keys.check(presented)) return;
    reply.header("WWW-Authenticate", "Bearer");
    return sendJson(reply, 401, unauthorized(path, !presented));
  };
}
