// One llama-server process: started on a private unix socket (never a TCP port), awaited until
// its model is loaded, its log kept to explain a failure, and killed with the runner.
import { spawn, type ChildProcess } from "node:child_process";
import { rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { makeScratchDir } from "../../../store/scratch.js";
import { EngineError } from "../engine.js";
import { LlamaServerHttp } from "./http.js";

/** Log kept to explain a failed start. */
const LOG_KEEP = 64 * 1024;

export class LlamaServerProcess {
  readonly http: LlamaServerHttp;
  private log = "";
  private exited = false;
  private stopping = false;

  private constructor(
    private readonly child: ChildProcess,
    private readonly socket: string,
    debug: boolean,
    onDied: () => void,
  ) {
    this.http = new LlamaServerHttp(socket);
    const keep = (d: Buffer) => {
      if (debug) process.stderr.write(d);
      if (this.log.length < LOG_KEEP) this.log += d.toString();
      else this.log = this.log.slice(0, LOG_KEEP / 2) + this.log.slice(-LOG_KEEP / 4) + d.toString();
    };
    child.stdout?.on("data", keep);
    child.stderr?.on("data", keep);
    child.on("exit", () => {
      this.exited = true;
      this.removeSocketDir();
      if (!this.stopping) onDied();
    });
  }

  /** Starts llama-server with these arguments (no --host/--port: the socket is ours to choose). */
  static async start(binary: string, args: string[], opts: { debug: boolean; onDied: () => void }): Promise<LlamaServerProcess> {
    // A folder only this user can enter: llama-server has no key, so its socket must not be reachable by
    // others. It is named for this runner, so a start after a SIGKILL removes it (store/startup.ts).
    const dir = await makeScratchDir("llama");
    const socket = join(dir, "llama-server.sock");
    const child = spawn(binary, [...args, "--host", socket], { stdio: ["ignore", "pipe", "pipe"] });
    let startErr: Error | undefined;
    child.on("error", (e) => (startErr = e));
    const proc = new LlamaServerProcess(child, socket, opts.debug, opts.onDied);
    proc.stopping = true; // a failed start is reported by start(), not as a death
    // No deadline here: the server kills the whole runner after OLLAMA_LOAD_TIMEOUT.
    for (;;) {
      if (startErr) throw new EngineError(500, `cannot start llama-server: ${startErr.message}`);
      if (proc.exited) throw new EngineError(500, proc.failure());
      // 503 while the model loads, 200 once it serves.
      if ((await proc.http.status("/health")) === 200) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    proc.stopping = false;
    return proc;
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  /** llama.cpp's own reason for a failed start, as Ollama reports it. */
  failure(): string {
    const cause = /error loading model: [^\n]*/.exec(this.log)?.[0] ?? /(?:error|failed)[^\n]*/i.exec(this.log)?.[0];
    return cause?.trim() || this.log.trim().split("\n").at(-1) || "llama-server exited";
  }

  /** Resolves true once the process has exited, or false after `ms`. */
  exitedWithin(ms: number): Promise<boolean> {
    if (this.exited) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), ms);
      this.child.once("exit", () => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }

  /** Kills llama-server and waits for it to go. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.http.close();
    if (this.exited) return;
    const gone = new Promise<void>((r) => this.child.once("exit", () => r()));
    this.child.kill("SIGTERM");
    const timer = setTimeout(() => this.child.kill("SIGKILL"), 3000);
    await gone;
    clearTimeout(timer);
  }

  /** Synchronous last resort when the runner itself exits: no exit event will come to clean up. */
  killNow(): void {
    this.stopping = true;
    if (!this.exited) this.child.kill("SIGKILL");
    this.removeSocketDir();
  }

  private removeSocketDir(): void {
    rmSync(dirname(this.socket), { recursive: true, force: true });
  }
}
