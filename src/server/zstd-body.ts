// zstd-compressed request bodies (`Content-Encoding: zstd`, as the Codex client sends to
// /v1/responses). The decompressed size is capped, and so is every frame's window before the
// decoder allocates it: a few bytes of header must not buy gigabytes of memory.
import type { FastifyRequest } from "fastify";
import { Decompress } from "fzstd";
import { ApiError, badRequest } from "../api/errors.js";

/** The most a zstd body may decompress to (Ollama's limit). */
export const ZSTD_BODY_LIMIT = 20 * 1024 * 1024;

const FRAME_MAGIC = 0xfd2fb528;
const SKIPPABLE_MASK = 0xfffffff0;
const SKIPPABLE_MAGIC = 0x184d2a50;

const corrupt = () => badRequest("failed to decompress zstd body");
const tooLarge = (limit: number) => new ApiError(413, `decompressed request body too large (limit ${limit} bytes)`);

/** Little-endian unsigned integer of `n` bytes (n <= 8) at `at`. */
function readLE(buf: Buffer, at: number, n: number): number {
  if (at + n > buf.length) throw corrupt();
  let v = 0;
  for (let i = n - 1; i >= 0; i--) v = v * 256 + buf[at + i]!;
  return v;
}

/** Offset just past the zstd frame at `at`, after checking its window and declared size against `limit`. */
function checkFrame(buf: Buffer, at: number, limit: number): number {
  const descriptor = readLE(buf, at + 4, 1);
  const fcsFlag = descriptor >> 6;
  const singleSegment = (descriptor >> 5) & 1;
  const checksum = (descriptor >> 2) & 1;
  const dictBytes = [0, 1, 2, 4][descriptor & 3]!;
  let p = at + 5;
  let window = 0;
  if (!singleSegment) {
    const wd = readLE(buf, p++, 1);
    const base = 2 ** (10 + (wd >> 3));
    window = base + (base / 8) * (wd & 7);
  }
  p += dictBytes;
  const fcsBytes = [singleSegment, 2, 4, 8][fcsFlag]!;
  if (fcsBytes) {
    const size = readLE(buf, p, fcsBytes) + (fcsBytes === 2 ? 256 : 0);
    if (size > limit) throw tooLarge(limit);
    if (singleSegment) window = size;
  }
  p += fcsBytes;
  if (window > limit) throw tooLarge(limit);
  // Blocks: a 3-byte header (last flag, type, size); an RLE block stores one byte.
  for (;;) {
    const header = readLE(buf, p, 3);
    const type = (header >> 1) & 3;
    if (type === 3) throw corrupt();
    p += 3 + (type === 1 ? 1 : header >>> 3);
    if (header & 1) break;
  }
  p += checksum * 4;
  if (p > buf.length) throw corrupt();
  return p;
}

/** Checks every frame's header before any decoding. */
function checkFrames(buf: Buffer, limit: number): void {
  let p = 0;
  while (p < buf.length) {
    const magic = readLE(buf, p, 4);
    if (magic === FRAME_MAGIC) p = checkFrame(buf, p, limit);
    else if (((magic & SKIPPABLE_MASK) >>> 0) === SKIPPABLE_MAGIC) p += 8 + readLE(buf, p + 4, 4);
    else throw corrupt();
  }
  if (p > buf.length) throw corrupt();
}

/** Decompresses a zstd body, refusing (413) anything that would exceed `limit` bytes. */
export function inflateZstd(compressed: Buffer, limit = ZSTD_BODY_LIMIT): Buffer {
  if (compressed.length > limit) throw tooLarge(limit);
  checkFrames(compressed, limit);
  const parts: Uint8Array[] = [];
  let size = 0;
  const d = new Decompress((chunk) => {
    size += chunk.length;
    if (size > limit) throw tooLarge(limit);
    parts.push(chunk.slice());
  });
  try {
    if (compressed.length) d.push(compressed, true);
  } catch (e) {
    throw e instanceof ApiError ? e : corrupt();
  }
  return Buffer.concat(parts, size);
}

/** A route hook: a body sent with `Content-Encoding: zstd` is replaced by its decompressed bytes. */
export async function zstdBody(request: FastifyRequest): Promise<void> {
  const encoding = request.headers["content-encoding"];
  if (typeof encoding !== "string" || encoding.trim().toLowerCase() !== "zstd") return;
  request.body = inflateZstd((request.body as Buffer | undefined) ?? Buffer.alloc(0));
}
