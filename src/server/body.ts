// Request bodies: JSON read whatever the Content-Type (as Ollama's lenient decoder does), with a size limit.
import type { FastifyRequest } from "fastify";
import { ApiError } from "../api/errors.js";
import { parseRequestJson } from "../api/json.js";
import { noteModel } from "./observe/request-log.js";

/** JSON bodies above this are refused (413); blob uploads stream and have no limit. */
export const MAX_JSON_BODY = 256 * 1024 * 1024;

/** Parses the request body as JSON whatever its Content-Type, as Ollama's lenient decoder does. */
export function jsonBody(request: FastifyRequest): unknown {
  const body = request.body as Buffer | undefined;
  const parsed = parseRequestJson(body ?? "");
  noteModel(request, parsed);
  return parsed;
}

/**
 * Reads a JSON body up to `limit` bytes. Past the limit the rest is still read and dropped, so the
 * client finishes sending and sees the 413 instead of a reset connection.
 */
export async function readLimited(stream: AsyncIterable<Buffer>, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    size += chunk.length;
    if (size <= limit) chunks.push(chunk);
  }
  if (size > limit) throw new ApiError(413, `request body too large (limit ${limit} bytes)`);
  return Buffer.concat(chunks);
}
