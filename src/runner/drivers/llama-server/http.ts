// HTTP to one llama-server over its private unix socket: JSON calls and server-sent event streams.
import { Agent, request, type IncomingMessage } from "node:http";
import { EngineError } from "../engine.js";

export class LlamaServerHttp {
  // No keep-alive: llama-server closes idle connections on its own schedule, and a unix-socket
  // connect costs next to nothing.
  private readonly agent = new Agent({ keepAlive: false });

  constructor(private readonly socketPath: string) {}

  private open(method: string, path: string, body: unknown, signal?: AbortSignal): Promise<IncomingMessage> {
    return new Promise((resolve, reject) => {
      const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
      const req = request(
        {
          socketPath: this.socketPath,
          agent: this.agent,
          method,
          path,
          headers: data ? { "content-type": "application/json", "content-length": data.length } : {},
          signal,
        },
        resolve,
      );
      req.on("error", reject);
      req.end(data);
    });
  }

  /** A JSON call; a non-2xx answer becomes an EngineError with llama-server's message. */
  async json<T>(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
    const res = await this.open(method, path, body, signal);
    const text = await readAll(res);
    if ((res.statusCode ?? 500) >= 300) throw errorOf(res.statusCode ?? 500, text);
    return JSON.parse(text) as T;
  }

  /** Status of GET path, or 0 when nothing answers. */
  async status(path: string): Promise<number> {
    try {
      const res = await this.open("GET", path, undefined);
      await readAll(res);
      return res.statusCode ?? 0;
    } catch {
      return 0;
    }
  }

  /**
   * POSTs and calls onEvent with each `data:` object of the event stream. Aborting the signal closes the
   * connection, which is how llama-server learns to stop the task; the promise then resolves quietly.
   */
  async stream(path: string, body: unknown, signal: AbortSignal, onEvent: (ev: Record<string, unknown>) => void): Promise<void> {
    let res: IncomingMessage;
    try {
      res = await this.open("POST", path, body, signal);
    } catch (e) {
      if (signal.aborted) return;
      throw e;
    }
    if ((res.statusCode ?? 500) >= 300) throw errorOf(res.statusCode ?? 500, await readAll(res));
    let buf = "";
    try {
      for await (const chunk of res) {
        buf += (chunk as Buffer).toString("utf8");
        for (let i = buf.indexOf("\n"); i >= 0; i = buf.indexOf("\n")) {
          const line = buf.slice(0, i).trim();
          buf = buf.slice(i + 1);
          if (line.startsWith("data:")) {
            const payload = line.slice(5).trim();
            if (payload === "[DONE]") continue;
            const ev = JSON.parse(payload) as Record<string, unknown>;
            if (ev.error) throw errorOf(500, payload);
            onEvent(ev);
          } else if (line.startsWith("error:")) throw errorOf(500, line.slice(6).trim());
        }
      }
    } catch (e) {
      if (signal.aborted) return;
      throw e;
    }
  }

  close(): void {
    this.agent.destroy();
  }
}

function readAll(res: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = "";
    res.setEncoding("utf8");
    res.on("data", (d: string) => (text += d));
    res.on("end", () => resolve(text));
    res.on("error", reject);
  });
}

/** llama-server answers {"error":{"code","message","type"}}; keep its message and a fitting status. */
function errorOf(status: number, text: string): EngineError {
  let message = text;
  let code = status;
  try {
    const body = JSON.parse(text) as { error?: { message?: string; code?: number } | string };
    const err = body.error;
    if (typeof err === "string") message = err;
    else if (err) {
      message = err.message ?? text;
      if (typeof err.code === "number") code = err.code;
    }
  } catch {
    // Not JSON: keep the text.
  }
  return new EngineError(code >= 400 && code < 600 ? code : 500, message);
}
