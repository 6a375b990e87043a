// Which models are loaded, in which runner: load on demand (one load at a time, FIFO, bounded
// queue), parallel slots per runner, keep_alive timers, eviction at OLLAMA_MAX_LOADED_MODELS or
// when a model does not fit in memory, and recovery when a runner process dies.
import { ApiError } from "../api/errors.js";
import type { ModelDetails } from "../api/models.js";
import type { LoadParams } from "../runner/protocol.js";
import { startRunner, type RunnerOptions, type RunnerProcess } from "../runner/client.js";
import { offloadsToGpu, systemAvailableMemory, tooLarge } from "./memory.js";
import type { SchedulerObserver } from "./observer.js";

export interface SchedulerConfig {
  maxLoadedModels: number;
  maxQueue: number;
  /** Default keep-alive in ms (Infinity = forever). */
  keepAlive: number;
  debug: boolean;
  /** ms a load may take (OLLAMA_LOAD_TIMEOUT); Infinity = forever. */
  loadTimeout?: number;
  /** Bytes all loaded models may take together; 0 or absent = the machine's available memory. */
  memoryLimit?: number;
}

/** What a loaded model is, for /api/ps. */
export interface ModelDescription {
  name: string;
  digest: string;
  details: ModelDetails;
}

/** One model's line in the queue view (/api/queue): loaded or not, slots in use, requests waiting. */
export interface QueueEntry {
  name: string;
  loaded: boolean;
  active: number;
  slots: number;
  waiting: number;
}

export interface LoadRequest {
  params: LoadParams;
  description: ModelDescription;
  /** Request keep_alive in ms, if the request gave one. */
  keepAlive?: number;
  /** Estimated bytes the runner will take (weights and KV caches), checked before it is started. */
  memory: number;
  signal?: AbortSignal;
}

export interface Lease {
  runner: RunnerProcess;
  /** Nanoseconds spent waiting for and loading the runner. */
  loadNs: number;
  release(): void;
}

export interface RunningModel {
  description: ModelDescription;
  size: number;
  sizeVram: number;
  contextLength: number;
  expiresAt: Date;
}

/** Go's maximum duration (~292 years): what "forever" shows as in expires_at. */
const FOREVER_MS = 9_223_372_036_854;

export const QUEUE_FULL_MESSAGE = "server busy, please try again.  maximum pending requests exceeded";

interface Entry {
  key: string;
  params: LoadParams;
  description: ModelDescription;
  runner: RunnerProcess;
  memory: number;
  active: number;
  slotWaiters: (() => void)[];
  keepAlive: number;
  timer?: NodeJS.Timeout;
  expiresAt: number;
  closing?: Promise<void>;
  idleWaiters: (() => void)[];
}

type Starter = (params: LoadParams, opts: RunnerOptions) => Promise<RunnerProcess>;

function sameRunnerSettings(a: LoadParams, b: LoadParams): boolean {
  // Built by one function, so equal settings serialise equally.
  return JSON.stringify(a) === JSON.stringify(b);
}

const canceled = () => new ApiError(499, "request canceled");

export class Scheduler {
  private readonly entries = new Map<string, Entry>();
  private pending = 0;
  private loadChain: Promise<unknown> = Promise.resolve();
  /** Requests waiting in load() (queued behind other loads or loading), per model path. */
  private readonly loading = new Map<string, { name: string; count: number }>();
  private shuttingDown = false;
  /** The runner being started now; Ollama lists it as loaded at once, so requests for it wait for it uncounted. */
  private starting?: { key: string; params: LoadParams; done: Promise<unknown> };

  constructor(
    private readonly config: SchedulerConfig,
    private readonly start: Starter = startRunner,
    private readonly observer: SchedulerObserver = {},
  ) {}

  /** Finds or loads a runner for the model and takes one of its slots. */
  async acquire(req: LoadRequest): Promise<Lease> {
    const t0 = process.hrtime.bigint();
    const key = req.params.modelPath;
    for (;;) {
      if (req.signal?.aborted) throw canceled();
      const entry = this.entries.get(key);
      if (entry && !entry.closing && sameRunnerSettings(entry.params, req.params)) {
        if (req.keepAlive !== undefined) entry.keepAlive = req.keepAlive;
        await this.takeSlot(entry, req.signal);
        if (entry.closing || this.entries.get(key) !== entry) {
          this.releaseSlot(entry);
          continue;
        }
        return this.lease(entry, t0);
      }
      const loaded = await this.load(req);
      if (loaded) return this.lease(loaded, t0);
    }
  }

  private lease(entry: Entry, t0: bigint): Lease {
    clearTimeout(entry.timer);
    entry.timer = undefined;
    entry.expiresAt = Date.now() + entry.keepAlive;
    let released = false;
    const loadNs = Number(process.hrtime.bigint() - t0);
    this.observer.leased?.(entry.description.name, loadNs / 1e9);
    return {
      runner: entry.runner,
      loadNs,
      release: () => {
        if (released) return;
        released = true;
        this.releaseSlot(entry);
      },
    };
  }

  private takeSlot(entry: Entry, signal?: AbortSignal): Promise<void> {
    if (entry.active < Math.max(1, entry.params.parallel)) {
      entry.active++;
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      const wake = () => {
        signal?.removeEventListener("abort", onAbort);
        entry.active++;
        resolve();
      };
      const onAbort = () => {
        entry.slotWaiters = entry.slotWaiters.filter((w) => w !== wake);
        reject(canceled());
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      entry.slotWaiters.push(wake);
    });
  }

  private releaseSlot(entry: Entry) {
    entry.active--;
    const next = entry.slotWaiters.shift();
    if (next) return next();
    if (entry.active > 0) return;
    for (const w of entry.idleWaiters.splice(0)) w();
    if (entry.closing || this.entries.get(entry.key) !== entry) return;
    this.armTimer(entry);
  }

  private armTimer(entry: Entry) {
    clearTimeout(entry.timer);
    entry.expiresAt = Date.now() + entry.keepAlive;
    if (entry.keepAlive <= 0) return void this.close(entry);
    if (!Number.isFinite(entry.keepAlive)) return;
    // setTimeout caps at ~24.8 days; anything longer is effectively forever for a server.
    entry.timer = setTimeout(() => void this.close(entry), Math.min(entry.keepAlive, 2 ** 31 - 1));
    entry.timer.unref();
  }

  /**
   * Loads the model (queued behind other loads), evicting another model if needed. Returns the new
   * entry with one slot already taken for the caller, or undefined when a compatible runner
   * appeared meanwhile.
   */
  private async load(req: LoadRequest): Promise<Entry | undefined> {
    // As Ollama's pending channel: OLLAMA_MAX_QUEUE requests may wait behind the load in progress,
    // which is not counted. Requests for a loaded model, or for the runner being started, wait
    // without taking a place and are never refused.
    const key = req.params.modelPath;
    const starting = this.starting;
    const joining = starting?.key === key && sameRunnerSettings(starting.params, req.params);
    if (!joining && this.pending > this.config.maxQueue) throw new ApiError(503, QUEUE_FULL_MESSAGE);
    if (!joining) this.pending++;
    const waiting = this.loading.get(key) ?? { name: req.description.name, count: 0 };
    waiting.count++;
    this.loading.set(key, waiting);
    // Joining: once that start is done the caller finds the runner loaded; its failure is ours too.
    if (joining) {
      try {
        await starting!.done;
        return undefined;
      } finally {
        if (--waiting.count === 0 && this.loading.get(key) === waiting) this.loading.delete(key);
      }
    }
    const run: Promise<Entry | undefined> = this.loadChain.then(async () => {
      if (req.signal?.aborted) throw canceled();
      const existing = this.entries.get(key);
      if (existing && !existing.closing && sameRunnerSettings(existing.params, req.params)) return undefined;
      // Refused before anything is unloaded for it.
      const gated = (this.config.memoryLimit ?? 0) > 0 || !offloadsToGpu(req.params);
      if (gated) this.refuseIfTooLarge(req.memory);
      if (existing) await this.closeWhenIdle(existing);
      await this.makeRoom();
      if (gated) await this.makeMemory(req.memory);
      // Making room may have meant waiting for a busy model; a client gone meanwhile needs no runner.
      if (req.signal?.aborted) throw canceled();
      this.starting = { key, params: req.params, done: run };
      const runner = await this.start(req.params, { debug: this.config.debug, loadTimeout: this.config.loadTimeout }).finally(
        () => (this.starting = undefined),
      );
      const entry: Entry = {
        key,
        params: req.params,
        description: req.description,
        runner,
        memory: req.memory,
        active: 1,
        slotWaiters: [],
        idleWaiters: [],
        keepAlive: req.keepAlive ?? this.config.keepAlive,
        expiresAt: 0,
      };
      this.entries.set(key, entry);
      runner.onExit(() => {
        // A crashed runner is forgotten; its requests already failed and the next one reloads.
        if (!entry.closing && !this.shuttingDown) this.observer.runnerDied?.(entry.description.name);
        if (this.entries.get(key) === entry) this.entries.delete(key);
        clearTimeout(entry.timer);
        for (const w of entry.slotWaiters.splice(0)) w();
        for (const w of entry.idleWaiters.splice(0)) w();
      });
      return entry;
    });
    this.loadChain = run.catch(() => undefined);
    try {
      return await run;
    } finally {
      this.pending--;
      if (--waiting.count === 0 && this.loading.get(key) === waiting) this.loading.delete(key);
    }
  }

  private async makeRoom() {
    const max = this.config.maxLoadedModels;
    while (max > 0 && this.entries.size >= max) await this.closeWhenIdle(this.victim());
  }

  /** Ollama's choice: shortest keep_alive first, then by path; an idle model before a busy one (which is awaited). */
  private victim(): Entry {
    const loaded = [...this.entries.values()].sort((a, b) => a.keepAlive - b.keepAlive || a.key.localeCompare(b.key));
    return loaded.find((e) => e.active === 0) ?? loaded[0]!;
  }

  /** Bytes a new runner may take now, before any eviction. */
  private freeMemory(): number {
    const limit = this.config.memoryLimit ?? 0;
    if (limit <= 0) return systemAvailableMemory();
    let used = 0;
    for (const e of this.entries.values()) used += e.memory;
    return limit - used;
  }

  /** Free memory plus what unloading every loaded model would give back. */
  private memoryWithoutOthers(): number {
    let loaded = 0;
    for (const e of this.entries.values()) loaded += e.memory;
    return this.freeMemory() + loaded;
  }

  /** A model that could not fit even with every other model unloaded: Ollama's 500. */
  private refuseIfTooLarge(need: number) {
    const most = this.memoryWithoutOthers();
    if (need > most) throw tooLarge(need, most);
  }

  /** Evicts loaded models (as Ollama chooses them) until `need` bytes are free. */
  private async makeMemory(need: number) {
    while (need > this.freeMemory()) {
      // Also ends the loop once nothing is left to unload.
      this.refuseIfTooLarge(need);
      await this.closeWhenIdle(this.victim());
    }
  }

  private async closeWhenIdle(entry: Entry) {
    if (entry.active > 0 && !entry.runner.exited) {
      await new Promise<void>((resolve) => entry.idleWaiters.push(resolve));
    }
    await this.close(entry);
  }

  private close(entry: Entry): Promise<void> {
    if (!entry.closing) {
      clearTimeout(entry.timer);
      entry.closing = (async () => {
        if (entry.active > 0) await new Promise<void>((r) => entry.idleWaiters.push(r));
        if (this.entries.get(entry.key) === entry) this.entries.delete(entry.key);
        await entry.runner.close();
      })();
    }
    return entry.closing;
  }

  /** keep_alive 0 on an empty request: unload as soon as the model is idle (no error if not loaded). */
  async unload(modelPath: string): Promise<void> {
    const entry = this.entries.get(modelPath);
    if (!entry) return;
    entry.keepAlive = 0;
    if (entry.active === 0) await this.close(entry);
  }

  running(): RunningModel[] {
    const now = Date.now();
    return [...this.entries.values()]
      .filter((e) => !e.closing)
      .map((e) => ({
        description: e.description,
        size: e.runner.info.memoryBytes,
        sizeVram: e.runner.info.vramBytes,
        contextLength: e.runner.info.contextSize,
        expiresAt: new Date(Math.min(e.active > 0 ? now + e.keepAlive : e.expiresAt, now + FOREVER_MS)),
      }))
      .sort((a, b) => b.expiresAt.getTime() - a.expiresAt.getTime());
  }

  /** Every model that is loaded or has requests waiting, by name: what /api/queue shows. */
  queue(): QueueEntry[] {
    const rows = new Map<string, QueueEntry>();
    for (const e of this.entries.values()) {
      if (e.closing) continue;
      rows.set(e.key, {
        name: e.description.name,
        loaded: true,
        active: e.active,
        slots: Math.max(1, e.params.parallel),
        waiting: e.slotWaiters.length,
      });
    }
    for (const [key, w] of this.loading) {
      const row = rows.get(key);
      if (row) row.waiting += w.count;
      else rows.set(key, { name: w.name, loaded: false, active: 0, slots: 0, waiting: w.count });
    }
    return [...rows.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  async shutdown(): Promise<void> {
    this.shuttingDown = true;
    await Promise.all([...this.entries.values()].map((e) => e.runner.close()));
    this.entries.clear();
  }
}
