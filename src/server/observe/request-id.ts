// Request ids: the client's X-Request-Id when it is a plain token, else a fresh random one.
import { randomUUID } from "node:crypto";
import type { IncomingMessage } from "node:http";

export const REQUEST_ID_HEADER = "x-request-id";

/** Only short plain tokens are taken, so an id can never inject into a log line or a header. */
const VALID = /^[A-Za-z0-9._-]{1,128}$/;

export function requestId(req: IncomingMessage): string {
  const given = req.headers[REQUEST_ID_HEADER];
  return typeof given === "string" && VALID.test(given) ? given : randomUUID();
}
