// Downloading one blob: ranged parts fetched in parallel into the store's resumable partial file,
// each part retried with backoff and restarted when it stalls, the whole checked against its digest
// before it becomes the blob. One download per blob however many pulls want it; it stops when the
// last of them goes away (the partial file stays for the next pull to resume).
import { setMaxListeners } from "node:events";
import type { Layer } from "../store/manifest.js";
import type { PartialBlob, PartState } from "../store/partial.js";
import type { ModelStore } from "../store/store.js";
import { displayShortest } from "../store/name.js";
import type { PartialInfo } from "../store/partial-info.js";
import { ApiError, notFound } from "../api/errors.js";
import type { Repository } from "./client.js";
import { discard } from "./http.js";
import { fetchPart, type PartJob, type Source } from "./part.js";
import type { RegistryObserver } from "./observer.js";
import { layerLine, ticker, type Progress } from "./progress.js";
import { BACKOFF_MS, isPermanent, PARTS, partSizes, RETRIES, sleep } from "./transfer.js";

export interface DownloadTuning {
  /** Fixed part size instead of Ollama's rule (tests, benchmarks). */
  partSize?: number;
  /** A part that receives nothing for this long is restarted (Ollama: 30 s). */
  stallMs?: number;
  backoffMs?: number;
}

/** Runs `fn` over `items`, at most `limit` at a time; resolves when all have settled. */
async function pool<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

class BlobDownload {
  total = 0;
  completed = 0;
  private parts: PartState[] = [];
  private waiters = 0;
  private readonly stop = new AbortController();
  /** Settles when the download has finished, failed or stopped, and its files are closed. */
  readonly result: Promise<void>;

  constructor(
    private readonly partial: PartialBlob,
    private readonly layer: Layer,
    private readonly repo: Repository,
    private readonly tuning: DownloadTuning,
    private readonly observer: RegistryObserver,
  ) {
    // Every running part and request listens to the stop signal.
    setMaxListeners(8 * PARTS, this.stop.signal);
    this.result = this.prepareAndRun();
    this.result.catch(() => {});
  }

  get stopped(): boolean {
    return this.stop.signal.aborted;
  }

  /** Follows the download until it ends or `signal` aborts; the last follower to leave stops it. */
  async follow(signal: AbortSignal | undefined, progress: Progress): Promise<void> {
    this.waiters++;
    const tick = ticker("pulling", this.layer.digest, progress, () => this);
    let ok = false;
    try {
      await new Promise<void>((resolve, reject) => {
        if (signal?.aborted) return reject(signal.reason);
        const onAbort = () => reject(signal!.reason);
        signal?.addEventListener("abort", onAbort, { once: true });
        this.result.then(resolve, reject).finally(() => signal?.removeEventListener("abort", onAbort));
      });
      ok = true;
    } finally {
      tick.stop(ok);
      if (--this.waiters === 0) this.stop.abort();
    }
  }

  private async prepareAndRun(): Promise<void> {
    const signal = this.stop.signal;
    const parts = (this.parts = await this.plan(signal));
    this.total = parts.reduce((n, p) => n + p.Size, 0);
    this.completed = parts.reduce((n, p) => n + p.Completed, 0);
    // Only for listings: a failure to write it does not stop the download.
    await this.partial.describe(displayShortest(this.repo.name), this.total).catch(() => {});
    // Nothing left to fetch (an empty blob, or a crash between download and commit): just check it.
    if (parts.some((p) => p.Completed < p.Size)) await this.fetchParts(parts, await this.source(signal));
    await this.partial.commit();
  }

  /** Saved parts when they fit the layer's size, else a new plan from the registry's Content-Length. */
  private async plan(signal: AbortSignal): Promise<PartState[]> {
    const resumed = await this.partial.resume(this.layer.size);
    if (resumed) return resumed;
    const res = await this.repo.request("HEAD", this.repo.url("blobs", this.layer.digest), { signal });
    discard(res);
    const length = Number(res.headers["content-length"]);
    const total = Number.isSafeInteger(length) && length > 0 ? length : this.layer.size;
    return this.partial.start(total, partSizes(total, this.tuning.partSize));
  }

  /**
   * A ranged GET of the blob on the registry: a redirect to another host is blob storage, fetched
   * without the registry's credentials; otherwise the parts go to the registry itself.
   */
  private async source(signal: AbortSignal): Promise<Source> {
    const url = this.repo.url("blobs", this.layer.digest);
    const res = await this.retrying(signal, () =>
      this.repo.request("GET", url, { redirect: "same-host", headers: { Range: "bytes=0-0" }, signal }),
    );
    const location = res.statusCode && res.statusCode >= 300 && res.statusCode < 400 ? res.headers.location : undefined;
    discard(res);
    return location ? { url: new URL(location, url), registry: false } : { url, registry: true };
  }

  private async retrying<T>(signal: AbortSignal, fn: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await fn();
      } catch (e) {
        if (signal.aborted || isPermanent(e) || attempt >= RETRIES) throw e;
        await sleep((this.tuning.backoffMs ?? BACKOFF_MS) * 2 ** (attempt - 1), signal);
      }
    }
  }

  private async fetchParts(parts: PartState[], source: Source): Promise<void> {
    // Parts share one stop signal: the first to fail stops the others.
    const all = new AbortController();
    setMaxListeners(8 * PARTS, all.signal);
    const onStop = () => all.abort(this.stop.signal.reason);
    this.stop.signal.addEventListener("abort", onStop, { once: true });
    const fh = await this.partial.openData();
    const job: PartJob = {
      fh,
      partial: this.partial,
      repo: this.repo,
      source,
      tuning: this.tuning,
      written: (n) => {
        this.completed += n;
        this.observer.transferred?.("pull", n);
        this.partial.hashUpTo(finalPrefix(this.parts));
      },
    };
    let failure: unknown;
    try {
      await pool(
        parts.filter((p) => p.Completed < p.Size),
        PARTS,
        (p) => fetchPart(job, p, all.signal).catch((e) => {
          failure ??= e;
          all.abort(e);
        }),
      );
    } finally {
      this.stop.signal.removeEventListener("abort", onStop);
      await fh.close();
    }
    if (this.stop.signal.aborted) throw this.stop.signal.reason;
    if (failure) throw failure;
  }
}

/** Bytes from the start of the blob that are all downloaded. */
function finalPrefix(parts: PartState[]): number {
  let n = 0;
  for (const p of parts) {
    n += p.Completed;
    if (p.Completed < p.Size) break;
  }
  return n;
}

/** The blob downloads of one store: one per digest, shared by every pull that needs it. */
export class Downloads {
  private readonly active = new Map<string, BlobDownload>();
  /** Partial downloads being removed: a pull of the same blob waits for the removal to finish. */
  private readonly removing = new Map<string, Promise<void>>();

  constructor(
    private readonly store: ModelStore,
    private readonly tuning: DownloadTuning = {},
    private readonly observer: RegistryObserver = {},
  ) {}

  /**
   * Makes the layer's blob present: reports one line when it already is (and returns true), else
   * downloads it or joins the download under way, reporting progress until it is in place.
   */
  async fetch(repo: Repository, layer: Layer, signal: AbortSignal | undefined, progress: Progress): Promise<boolean> {
    const present = await this.store.blobSize(layer.digest);
    if (present !== undefined) {
      progress(layerLine("pulling", layer.digest, present, present));
      return true;
    }
    await this.store.preparePartial(layer.digest);
    const key = layer.digest.slice(7).toLowerCase();
    let d = this.active.get(key);
    if (!d || d.stopped) {
      // A stopped download may still be closing its files; the next one starts after it.
      if (d) await d.result.catch(() => {});
      while (this.removing.has(key)) await this.removing.get(key);
      d = this.active.get(key);
      if (!d || d.stopped) {
        const created = new BlobDownload(this.store.partialBlob(layer.digest), layer, repo, this.tuning, this.observer);
        this.active.set(key, created);
        created.result.catch(() => {}).finally(() => this.active.get(key) === created && this.active.delete(key));
        d = created;
      }
    }
    await d.follow(signal, progress);
    return false;
  }

  /** Whether a pull is downloading the blob `hex` right now. */
  isDownloading(hex: string): boolean {
    const d = this.active.get(hex);
    return d !== undefined && !d.stopped;
  }

  /** The partial downloads on disk, whatever their age; `downloading` tells those a pull is running. */
  async partials(): Promise<(PartialInfo & { downloading: boolean })[]> {
    const all = await this.store.partials();
    return all.map((p) => ({ ...p, downloading: this.isDownloading(p.digest.slice(7)) }));
  }

  /** Deletes a partial download's files: 404 when there is none, 409 while a pull is downloading it. */
  async removePartial(digest: string): Promise<void> {
    const partial = this.store.partialBlob(digest); // 400 on a malformed digest
    const key = partial.hex;
    const busy = () => new ApiError(409, `partial download "sha256:${key}" is in progress`);
    const gone = () => notFound(`partial download "sha256:${key}" not found`);
    if (this.isDownloading(key)) throw busy();
    // A download that was stopped may still be closing its files.
    await this.active.get(key)?.result.catch(() => {});
    const info = await partial.info();
    // Checked again after every wait: a pull may have started, or another removal.
    if (this.isDownloading(key)) throw busy();
    if (this.removing.has(key)) {
      await this.removing.get(key);
      throw gone();
    }
    if (!info) throw gone();
    const done = partial.discard().finally(() => this.removing.delete(key));
    this.removing.set(key, done);
    await done;
  }
}
