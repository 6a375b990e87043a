// Server side of a runner: forks the child process, speaks the IPC protocol, and turns a dead child
// into clean errors. It must never load node-llama-cpp itself (only child.ts/engine.ts do).
import { fork, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { ApiError } from "../api/errors.js";
import {
  RUNNER_PROTOCOL_VERSION,
  RUNNER_STOPPED_MESSAGE,
  type EmbedParams,
  type EmbedResult,
  type GenerateParams,
  type GenerateStats,
  type LoadedInfo,
  type LoadParams,
  type Logprob,
  type RerankParams,
  type RerankResult,
  type RunnerEvent,
  type RunnerRequest,
} from "./protocol.js";

const CHILD_PATH = fileURLToPath(new URL("./child.js", import.meta.url));
/** How long close() waits for a graceful unload before SIGKILL. */
const KILL_AFTER_MS = 5000;
/** Bytes of the child's stderr kept to explain a failed load. */
const STDERR_TAIL = 4096;

export interface RunnerOptions {
  debug?: boolean;
  /** ms the load may take before the runner is killed (OLLAMA_LOAD_TIMEOUT); none when absent or Infinity. */
  loadTimeout?: number;
}

export interface ExitInfo {
  code: number | null;
  signal: string | null;
}

interface Pending {
  resolve: (value: unknown) => void;
  reject: (err: Error) => void;
  onToken?: (text: string, logprobs?: Logprob[]) => void;
}

/** Forks a runner and loads the model; rejects with Ollama's load-failure message, leaving no child behind. */
export async function startRunner(params: LoadParams, opts: RunnerOptions = {}): Promise<RunnerProcess> {
  const child = fork(CHILD_PATH, opts.debug ? ["--debug"] : [], {
    stdio: ["ignore", "pipe", "pipe", "ipc"],
    serialization: "json",
    // The server's own flags (--test, --inspect, ...) are not for the runner.
    execArgv: [],
    env: { ...process.env, NODE_LLAMA_CPP_SKIP_DOWNLOAD: "true" },
    // Its own process group: an engine process the runner starts (llama-server) goes down with it,
    // even when the runner itself is killed.
    detached: true,
  });
  const runner = new RunnerProcess(child, params, opts.debug ?? false);
  let timedOut = false;
  const limit = opts.loadTimeout ?? Infinity;
  // The kill takes the runner's whole process group, so an engine stuck in the load goes too.
  const timer = Number.isFinite(limit)
    ? setTimeout(() => {
        timedOut = true;
        void runner.kill();
      }, Math.min(limit, 2 ** 31 - 1))
    : undefined;
  try {
    await runner.load();
    // A load that finished as the timer fired is already being killed.
    if (timedOut) throw new ApiError(500, RUNNER_STOPPED_MESSAGE);
    return runner;
  } catch (e) {
    const exit = await runner.kill();
    // llama.cpp logs the real cause ("error loading model: missing tensor ..."); prefer it to a generic message.
    const llamaCause = /error loading model: [^\n]*/.exec(runner.stderrText())?.[0].trim();
    // Ollama's wording, with the last error seen (often none) after the dash.
    if (timedOut) throw new ApiError(500, `timed out waiting for llama runner to start - ${llamaCause ?? ""}`);
    const reason =
      llamaCause ??
      (e instanceof ApiError && e.message !== RUNNER_STOPPED_MESSAGE
        ? e.message
        : runner.lastStderrLine() || (exit.signal ? `signal: ${exit.signal}` : `exit status ${exit.code}`));
    throw new ApiError(500, `llama runner process has terminated: ${reason}`);
  } finally {
    clearTimeout(timer);
  }
}

export class RunnerProcess {
  readonly pid: number;
  private loaded?: LoadedInfo;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private exitInfo?: ExitInfo;
  private readonly exitCallbacks: ((info: ExitInfo) => void)[] = [];
  private closing?: Promise<void>;
  private stderrTail = "";

  /** @internal Use startRunner(). */
  constructor(
    private readonly child: ChildProcess,
    readonly params: LoadParams,
    debug: boolean,
  ) {
    this.pid = child.pid ?? -1;
    // Always consume the pipes so the child never blocks on a full one; show them only in debug.
    child.stdout?.on("data", (d: Buffer) => debug && process.stderr.write(d));
    child.stderr?.on("data", (d: Buffer) => {
      if (debug) process.stderr.write(d);
      this.stderrTail = (this.stderrTail + d.toString()).slice(-STDERR_TAIL);
    });
    child.on("message", (ev: RunnerEvent) => this.onEvent(ev));
    // "close", not "exit": it comes after the IPC channel has drained, so no event is lost behind it.
    child.on("close", (code, signal) => this.onChildExit({ code, signal }));
    // Spawn failures emit only "error"; later errors (a failed kill) leave the process running.
    child.on("error", (err) => {
      if (child.pid != null) return;
      this.stderrTail += `\n${err.message}`;
      this.onChildExit({ code: null, signal: null });
    });
  }

  get info(): LoadedInfo {
    if (!this.loaded) throw new Error("runner not loaded");
    return this.loaded;
  }

  get exited(): boolean {
    return this.exitInfo != null;
  }

  /** @internal Called once by startRunner(). */
  async load(): Promise<void> {
    const id = this.nextId++;
    this.loaded = (await this.request({ op: "load", id, version: RUNNER_PROTOCOL_VERSION, params: this.params })) as LoadedInfo;
  }

  /** Streams tokens through onToken; an abort cancels in the runner, which still reports the stats so far. */
  generate(p: GenerateParams, h: { signal?: AbortSignal; onToken: (text: string, logprobs?: Logprob[]) => void }): Promise<GenerateStats> {
    const id = this.nextId++;
    const result = this.request({ op: "generate", id, params: p }, h.onToken) as Promise<GenerateStats>;
    const signal = h.signal;
    if (signal) {
      const cancel = () => this.post({ op: "cancel", id });
      if (signal.aborted) cancel();
      else {
        signal.addEventListener("abort", cancel, { once: true });
        const off = () => signal.removeEventListener("abort", cancel);
        result.then(off, off);
      }
    }
    return result;
  }

  async tokenize(text: string): Promise<number[]> {
    return (await this.request({ op: "tokenize", id: this.nextId++, text })) as number[];
  }

  async detokenize(tokens: number[]): Promise<string> {
    return (await this.request({ op: "detokenize", id: this.nextId++, tokens })) as string;
  }

  async embed(p: EmbedParams): Promise<EmbedResult> {
    return (await this.request({ op: "embed", id: this.nextId++, params: p })) as EmbedResult;
  }

  async rerank(p: RerankParams): Promise<RerankResult> {
    return (await this.request({ op: "rerank", id: this.nextId++, params: p })) as RerankResult;
  }

  /** Graceful unload, then SIGKILL if the child lingers. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      if (this.exited) return;
      const timer = setTimeout(() => this.child.kill("SIGKILL"), KILL_AFTER_MS);
      this.request({ op: "unload", id: this.nextId++ }).catch(() => {});
      await this.waitExit();
      clearTimeout(timer);
    })();
    return this.closing;
  }

  /** Called once the child has exited; at once if it already has. */
  onExit(cb: (info: ExitInfo) => void): void {
    if (this.exitInfo) {
      const info = this.exitInfo;
      queueMicrotask(() => cb(info));
    } else this.exitCallbacks.push(cb);
  }

  /** @internal SIGKILL and wait for the exit. */
  async kill(): Promise<ExitInfo> {
    if (!this.exitInfo) this.child.kill("SIGKILL");
    return this.waitExit();
  }

  /** @internal The kept tail of the runner's stderr. */
  stderrText(): string {
    return this.stderrTail;
  }

  /** @internal */
  lastStderrLine(): string {
    const lines = this.stderrTail.split("\n").filter((l) => l.trim() !== "");
    return lines.at(-1)?.trim() ?? "";
  }

  private waitExit(): Promise<ExitInfo> {
    return new Promise((resolve) => this.onExit(resolve));
  }

  private request(req: RunnerRequest, onToken?: (text: string, logprobs?: Logprob[]) => void): Promise<unknown> {
    if (this.exited) return Promise.reject(new ApiError(500, RUNNER_STOPPED_MESSAGE));
    return new Promise((resolve, reject) => {
      this.pending.set(req.id, { resolve, reject, onToken });
      this.post(req);
    });
  }

  private post(req: RunnerRequest): void {
    if (this.exited || !this.child.connected) return;
    // A send error means the channel is gone; the exit handler rejects what is pending.
    this.child.send(req, (err) => {
      if (err) this.settle(req.id)?.reject(new ApiError(500, RUNNER_STOPPED_MESSAGE));
    });
  }

  private settle(id: number): Pending | undefined {
    const p = this.pending.get(id);
    this.pending.delete(id);
    return p;
  }

  private onEvent(ev: RunnerEvent): void {
    switch (ev.ev) {
      case "token": {
        const p = this.pending.get(ev.id);
        try {
          p?.onToken?.(ev.text, ev.logprobs);
        } catch (err) {
          // A failing consumer ends its own generation, not the server.
          this.post({ op: "cancel", id: ev.id });
          this.settle(ev.id)?.reject(err instanceof Error ? err : new Error(String(err)));
        }
        return;
      }
      case "done":
        this.settle(ev.id)?.resolve(ev.stats);
        return;
      case "result":
        this.settle(ev.id)?.resolve(ev.value);
        return;
      case "error":
        this.settle(ev.id)?.reject(new ApiError(ev.status ?? 500, ev.message));
        return;
    }
  }

  private onChildExit(info: ExitInfo): void {
    if (this.exitInfo) return;
    this.exitInfo = info;
    try {
      // Whatever the runner left in its group (an engine process) has no one left to serve.
      if (this.pid > 0) process.kill(-this.pid, "SIGKILL");
    } catch {
      // The group is already gone.
    }
    const err = new ApiError(500, RUNNER_STOPPED_MESSAGE);
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
    for (const cb of this.exitCallbacks.splice(0)) cb(info);
  }
}
