// Uploading one blob (spec §8.3): skipped when the repository has it, mounted from another repository
// of the same registry when the layer came from one, else sent in parts (PATCH with Content-Range,
// each answer naming the next URL) and committed with a PUT carrying the digest.
import { createHash, type Hash } from "node:crypto";
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import type { IncomingMessage } from "node:http";
import type { Layer } from "../store/manifest.js";
import { parseModelName } from "../store/name.js";
import type { ModelStore } from "../store/store.js";
import { NotFoundError, type Repository } from "./client.js";
import { discard, send } from "./http.js";
import type { RegistryObserver } from "./observer.js";
import { layerLine, ticker, type Progress } from "./progress.js";
import { BACKOFF_MS, isPermanent, partSizes, sleep } from "./transfer.js";
import { ApiError } from "../api/errors.js";

/** Whole-upload attempts: a broken upload session cannot be continued reliably, so it starts over. */
const ATTEMPTS = 3;

export interface UploadTuning {
  partSize?: number;
  backoffMs?: number;
}

export interface UploadOptions {
  signal?: AbortSignal;
  tuning?: UploadTuning;
  observer?: RegistryObserver;
}

function nextLocation(res: IncomingMessage, base: URL): URL {
  const loc = res.headers["docker-upload-location"] ?? res.headers.location;
  if (typeof loc !== "string" || !loc) throw new Error("the registry named no upload location");
  return new URL(loc, base);
}

async function exists(repo: Repository, layer: Layer, signal?: AbortSignal): Promise<boolean> {
  try {
    discard(await repo.request("HEAD", repo.url("blobs", layer.digest), { signal }));
    return true;
  } catch (e) {
    if (e instanceof NotFoundError) return false;
    throw e;
  }
}

/** `ns/model` of the repository the layer came from, when it is on the registry being pushed to. */
function mountSource(repo: Repository, layer: Layer): string | undefined {
  const from = layer.from ? parseModelName(layer.from) : undefined;
  if (!from || from.host.toLowerCase() !== repo.base.host.toLowerCase()) return undefined;
  const path = `${from.namespace}/${from.model}`;
  return path === repo.path ? undefined : path;
}

/** Opens an upload session; "mounted" when the registry linked the blob from another repository instead. */
async function startUpload(repo: Repository, layer: Layer, signal?: AbortSignal): Promise<URL | "mounted"> {
  const url = repo.url("blobs", "uploads", "");
  const from = mountSource(repo, layer);
  if (from) {
    const mount = new URL(url);
    mount.searchParams.set("mount", layer.digest);
    mount.searchParams.set("from", from);
    try {
      const res = await repo.request("POST", mount, { signal });
      discard(res);
      if (res.statusCode === 201) return "mounted";
      return nextLocation(res, mount);
    } catch (e) {
      // No read access to the source repository: upload it instead.
      if (!(e instanceof ApiError) || e.status !== 401) throw e;
    }
  }
  const res = await repo.request("POST", url, { signal });
  discard(res);
  return nextLocation(res, url);
}

export async function uploadBlob(
  repo: Repository,
  store: ModelStore,
  layer: Layer,
  opts: UploadOptions,
  progress: Progress,
): Promise<void> {
  if (await exists(repo, layer, opts.signal)) {
    progress(layerLine("pushing", layer.digest, layer.size, layer.size));
    return;
  }
  const path = await store.blobFile(layer.digest);
  const size = (await stat(path)).size;
  const state = { total: size, completed: 0 };
  const tick = ticker("pushing", layer.digest, progress, () => state);
  let ok = false;
  try {
    for (let attempt = 1; ; attempt++) {
      state.completed = 0;
      try {
        await uploadOnce(repo, layer, path, size, opts, (n) => (state.completed += n));
        break;
      } catch (e) {
        if (opts.signal?.aborted || isPermanent(e) || attempt >= ATTEMPTS) throw e;
        await sleep((opts.tuning?.backoffMs ?? BACKOFF_MS) * 2 ** (attempt - 1), opts.signal);
      }
    }
    state.completed = size;
    ok = true;
  } finally {
    tick.stop(ok);
  }
}

async function uploadOnce(
  repo: Repository,
  layer: Layer,
  path: string,
  size: number,
  opts: UploadOptions,
  sent: (n: number) => void,
): Promise<void> {
  const signal = opts.signal;
  const started = await startUpload(repo, layer, signal);
  if (started === "mounted") return sent(size);
  let location = started;
  const md5s: Buffer[] = [];
  let offset = 0;
  for (const partSize of partSizes(size, opts.tuning?.partSize)) {
    const start = offset;
    const end = offset + partSize - 1;
    let partSent = 0;
    let md5: Hash = createHash("md5");
    // A fresh body for each send (the first may be answered 401 and sent again).
    const body = () => {
      sent(-partSent);
      partSent = 0;
      md5 = createHash("md5");
      const s = createReadStream(path, { start, end, highWaterMark: 1 << 20 });
      s.on("data", (c) => {
        md5.update(c as Buffer);
        partSent += c.length;
        sent(c.length);
        // Progress takes back a resent part's bytes; the network count keeps them, they were sent.
        opts.observer?.transferred?.("push", c.length);
      });
      return s;
    };
    const headers = {
      "Content-Type": "application/octet-stream",
      "Content-Length": String(partSize),
      "Content-Range": `${start}-${end}`,
      "X-Redirect-Uploads": "1",
    };
    const res = await repo.request("PATCH", location, { headers, body, signal, redirect: "manual" });
    discard(res);
    if (res.statusCode === 307 && res.headers.location) {
      // Upload storage elsewhere: the part goes there with PUT and without the registry's credentials.
      const target = new URL(res.headers.location, location);
      const put = await send({ method: "PUT", url: target, headers: repo.headersFor(target, { "Content-Type": "application/octet-stream", "Content-Length": String(partSize) }), body, signal });
      discard(put);
      if ((put.statusCode ?? 0) >= 400) throw new ApiError(put.statusCode!, `${put.statusCode}: upload storage refused the part`);
    }
    location = nextLocation(res, location);
    md5s.push(md5.digest());
    offset += partSize;
  }
  const commit = new URL(location);
  commit.searchParams.set("digest", layer.digest);
  commit.searchParams.set("etag", `${createHash("md5").update(Buffer.concat(md5s)).digest("hex")}-${md5s.length}`);
  const res = await repo.request("PUT", commit, { headers: { "Content-Type": "application/octet-stream" }, body: Buffer.alloc(0), signal });
  discard(res);
}
