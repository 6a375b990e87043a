// Fetching one part of a blob: a ranged GET written at the part's offset in the store's partial file,
// its progress saved as it goes so an interrupted transfer (or a killed server) resumes where it was.
import type { FileHandle } from "node:fs/promises";
import type { IncomingMessage } from "node:http";
import type { PartialBlob, PartState } from "../store/partial.js";
import { type Repository } from "./client.js";
import { discard, send } from "./http.js";
import { BACKOFF_MS, isPermanent, RETRIES, sleep } from "./transfer.js";
import { ApiError } from "../api/errors.js";

/** Part state is saved after this many new bytes: the most a crash can cost each running part. */
const SAVE_EVERY = 4 << 20;
/** Bytes gathered before one positional write. */
const WRITE_BATCH = 1 << 20;
const MAX_REDIRECTS = 10;

class StallError extends Error {
  constructor() {
    super("part stalled");
  }
}

/** Where parts are fetched: the registry (with its auth) or blob storage it redirected to (without). */
export interface Source {
  url: URL;
  registry: boolean;
}

export interface PartJob {
  fh: FileHandle;
  partial: PartialBlob;
  repo: Repository;
  source: Source;
  tuning: { stallMs?: number; backoffMs?: number };
  /** Bytes of some part were written at their place. */
  written(n: number): void;
}

function noSpace(path: string, e: unknown): unknown {
  if ((e as NodeJS.ErrnoException)?.code !== "ENOSPC") return e;
  return Object.assign(new Error(`write ${path}: no space left on device`), { code: "ENOSPC" });
}

/** Fetches what is missing of a part, retrying with backoff; a stalled attempt is restarted for free. */
export async function fetchPart(job: PartJob, part: PartState, signal: AbortSignal): Promise<void> {
  for (let attempt = 1; part.Completed < part.Size; ) {
    const before = part.Completed;
    try {
      await fetchRange(job, part, signal);
    } catch (e) {
      if (signal.aborted) throw signal.reason;
      if (e instanceof StallError) continue; // a stall costs no attempt, as in Ollama
      if (isPermanent(e)) throw e;
      if (part.Completed > before) attempt = 1; // progress was made: a fresh series of attempts
      else if (++attempt > RETRIES) throw new Error(`max retries exceeded: ${(e as Error).message}`);
      await sleep((job.tuning.backoffMs ?? BACKOFF_MS) * 2 ** (attempt - 1), signal);
    }
  }
}

/** One attempt at the rest of a part: writes what arrives at its offset and saves progress as it goes. */
async function fetchRange(job: PartJob, part: PartState, signal: AbortSignal): Promise<void> {
  const start = part.Offset + part.Completed;
  const end = part.Offset + part.Size - 1;
  const attempt = new AbortController();
  const onAbort = () => attempt.abort(signal.reason);
  signal.addEventListener("abort", onAbort, { once: true });
  const stallMs = job.tuning.stallMs ?? 30_000;
  let timer = setTimeout(() => attempt.abort(new StallError()), stallMs);
  const alive = () => {
    clearTimeout(timer);
    timer = setTimeout(() => attempt.abort(new StallError()), stallMs);
  };
  let saved = part.Completed;
  try {
    const res = await get(job, `bytes=${start}-${end}`, attempt.signal);
    checkRange(res, start);
    let batch: Buffer[] = [];
    let batched = 0;
    const flush = async () => {
      if (batched === 0) return;
      await writeAt(job.fh, batch, batched, part.Offset + part.Completed).catch((e) => Promise.reject(noSpace(job.partial.dataPath, e)));
      part.Completed += batched;
      job.written(batched);
      batch = [];
      batched = 0;
      if (part.Completed - saved >= SAVE_EVERY) {
        await job.partial.save(part);
        saved = part.Completed;
      }
    };
    try {
      for await (const chunk of res) {
        alive();
        const want = part.Size - part.Completed - batched;
        const b = chunk as Buffer;
        batch.push(b.length > want ? b.subarray(0, want) : b);
        batched += Math.min(b.length, want);
        if (batched >= WRITE_BATCH || batched === part.Size - part.Completed) await flush();
        if (part.Completed === part.Size) break;
      }
    } finally {
      // Bytes already received are kept even when the stream broke.
      await flush().catch((e) => Promise.reject(noSpace(job.partial.dataPath, e)));
    }
    if (part.Completed < part.Size) throw new Error("unexpected EOF");
  } catch (e) {
    if (attempt.signal.aborted && !signal.aborted) throw attempt.signal.reason;
    throw e;
  } finally {
    clearTimeout(timer);
    signal.removeEventListener("abort", onAbort);
    if (part.Completed !== saved) await job.partial.save(part).catch(() => {});
  }
}

/** GET with a Range: through the registry session, or straight to blob storage following its redirects. */
async function get(job: PartJob, range: string, signal: AbortSignal): Promise<IncomingMessage> {
if (job.source.registry) return job.repo.request("GET", job.source.url, { headers: { Range: range }, signal, idleTimeout: 0 });
let url = job.source.url;
  for (let hops = 0; ; hops++) {
    const res = await send({ method: "GET", url, headers: job.repo.headersFor(url, { Range: range }), signal, idleTimeout: 0 });
    const status = res.statusCode ?? 0;
    if (status >= 300 && status < 400 && res.headers.location && hops < MAX_REDIRECTS) {
      discard(res);
      url = new URL(res.headers.location, url);
      continue;
    }
    if (status >= 400) {
      discard(res);
      throw new ApiError(status, `${status}: blob storage refused ${url.host}`);
    }
    return res;
  }
}

/** The answer must start where asked: 206 at `start`, or a plain 200 when asking from byte 0. */
function checkRange(res: IncomingMessage, start: number): void {
  if (res.statusCode === 200 && start === 0) return;
  const m = /^bytes (\d+)-/.exec(String(res.headers["content-range"] ?? ""));
  if (res.statusCode === 206 && m && Number(m[1]) === start) return;
  res.destroy();
  throw new ApiError(416, `unexpected answer to a ranged request: ${res.statusCode} ${res.headers["content-range"] ?? ""}`.trim());
}

async function writeAt(fh: FileHandle, buffers: Buffer[], length: number, position: number): Promise<void> {
  const { bytesWritten } = await fh.writev(buffers, position);
  if (bytesWritten === length) return;
  // A short write: finish it from where it stopped.
  const rest = Buffer.concat(buffers).subarray(bytesWritten);
  for (let off = 0; off < rest.length; ) off += (await fh.write(rest, off, rest.length - off, position + bytesWritten + off)).bytesWritten;
}
