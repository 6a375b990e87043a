// The CLI's HTTP client for corral's (Ollama's) REST API. Errors read like the Go client's:
// a plain request answers with the server's message; a streamed one that fails before streaming
// carries the HTTP status too ("404 Not Found: model 'x' not found"); a failure mid-stream is the
// `error` line's message.
import { STATUS_CODES } from "node:http";
import { arch, platform } from "node:os";
import type { ChatResponse, GenerateResponse, Message, Think } from "../api/inference.js";
import type { ListModel, ProgressResponse, RunningModel, ShowResponse } from "../api/models.js";
import type { PartialsResponse } from "../api/partials.js";
import type { HostAddress } from "../config.js";
import { VERSION } from "../version.js";
import { ApiError } from "../api/errors.js";
import type { Fetch } from "./transport.js";


export const NOT_RUNNING = "could not connect to ollama server, run 'corral serve' to start it";

/** Fields /api/show returns beyond the server's own ShowResponse type (projectors, remote stubs). */
export interface ShowInfo extends ShowResponse {
  projector_info?: Record<string, unknown>;
  requires?: string;
  remote_model?: string;
  remote_host?: string;
}

export type { Think };

/** keep_alive as the Go client sends it: a duration string, or -1 for forever. */
export type KeepAliveWire = string | number;

export interface GenerateBody {
  model: string;
  prompt?: string;
  system?: string;
  images?: string[];
  format?: unknown;
  options?: Record<string, unknown>;
  keep_alive?: KeepAliveWire;
  think?: Think;
}

export interface ChatBody {
  model: string;
  messages: Message[];
  format?: unknown;
  options?: Record<string, unknown>;
  keep_alive?: KeepAliveWire;
  think?: Think;
}

export interface EmbedBody {
  model: string;
  input: string;
  keep_alive?: KeepAliveWire;
  truncate?: boolean;
  dimensions?: number;
}

/** What a model turn streams back; thinking and tool calls are optional extras. */
export type GenerateChunk = GenerateResponse & { thinking?: string; tool_calls?: Message["tool_calls"] };
export type ChatChunk = ChatResponse;

export function hostUrl(h: HostAddress): string {
  const host = h.host.includes(":") ? `[${h.host}]` : h.host;
  return `${h.scheme}://${host}:${h.port}`;
}

function errorMessage(body: string, status = 0): string {
  let message: string;
  try {
    const parsed = JSON.parse(body) as { error?: unknown };
    message =
      typeof parsed?.error === "string" && parsed.error ? parsed.error : "something went wrong, please see the ollama server logs for details";
  } catch {
    message = body;
  }
  return status === 401 ? withKeyHint(message) : message;
}

/** A 401 says what to do about it. */
function withKeyHint(message: string): string {
  return `${message}: the server needs an API key; set CORRAL_API_KEY (or OLLAMA_API_KEY) to one of its keys`;
}

function statusError(status: number): ApiError {
  const text = STATUS_CODES[status] ?? String(status);
  return new ApiError(status, status === 401 ? withKeyHint(text.toLowerCase()) : text);
}

export interface ClientOptions {
  /** Sent as `Authorization: Bearer <key>` on every request. */
  apiKey?: string;
  /** The fetch to send with (one trusting a private CA); the global fetch by default. */
  fetch?: Fetch;
}

export class Client {
  private readonly userAgent = `corral/${VERSION} (${arch()} ${platform()}) Node/${process.version}`;
  private readonly send: Fetch;
  private readonly auth: Record<string, string>;

  constructor(
    readonly base: string,
    opts: ClientOptions = {},
  ) {
    this.send = opts.fetch ?? fetch;
    this.auth = opts.apiKey ? { Authorization: `Bearer ${opts.apiKey}` } : {};
  }

  private async fetch(method: string, path: string, init: RequestInit = {}): Promise<Response> {
    const url = `${this.base}${path}`;
    try {
      return await this.send(url, {
        method,
        ...init,
        headers: { "Content-Type": "application/json", Accept: "application/x-ndjson", "User-Agent": this.userAgent, ...this.auth },
      });
    } catch (err) {
      if ((err as Error).name === "AbortError") throw err;
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      throw new Error(`${method} "${url}": ${cause?.message ?? (err as Error).message}`, { cause: cause ?? err });
    }
  }

  private async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await this.fetch(method, path, body === undefined ? {} : { body: JSON.stringify(body) });
    const text = await res.text();
    if (res.status >= 400) throw new ApiError(res.status, errorMessage(text, res.status));
    return (text ? JSON.parse(text) : undefined) as T;
  }

  /** HEAD / ; a refused connection becomes Ollama's "could not connect" message. */
  async heartbeat(): Promise<void> {
    try {
      const res = await this.send(`${this.base}/`, { method: "HEAD", headers: this.auth });
      if (res.status >= 400) throw statusError(res.status);
    } catch (err) {
      if (err instanceof ApiError) throw err;
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      if (cause?.code === "ECONNREFUSED") throw new Error(NOT_RUNNING);
      // A certificate from a private CA: say how to trust it.
      const hint = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY/.test(cause?.code ?? "") ? "; set CORRAL_TLS_CA to the PEM file of the CA that signed the server's certificate" : "";
      throw new Error(`HEAD "${this.base}/": ${cause?.message ?? (err as Error).message}${hint}`);
    }
  }

  async version(): Promise<string> {
    return (await this.request<{ version: string }>("GET", "/api/version")).version;
  }

  list(): Promise<{ models: ListModel[] }> {
    return this.request("GET", "/api/tags");
  }

  ps(): Promise<{ models: RunningModel[] }> {
    return this.request("GET", "/api/ps");
  }

  show(body: { model: string; verbose?: boolean; system?: string; options?: Record<string, unknown> }): Promise<ShowInfo> {
    return this.request("POST", "/api/show", body);
  }

  async copy(source: string, destination: string): Promise<void> {
    await this.request("POST", "/api/copy", { source, destination });
  }

  async delete(model: string): Promise<void> {
    await this.request("DELETE", "/api/delete", { model });
  }

  partials(): Promise<PartialsResponse> {
    return this.request("GET", "/api/partials");
  }

  async deletePartial(digest: string): Promise<void> {
    await this.request("DELETE", `/api/partials/${encodeURIComponent(digest)}`);
  }

  embed(body: EmbedBody): Promise<{ embeddings: number[][] }> {
    return this.request("POST", "/api/embed", body);
  }

  async hasBlob(digest: string): Promise<boolean> {
    const res = await this.fetch("HEAD", `/api/blobs/${digest}`);
    if (res.status === 200) return true;
    if (res.status === 404) return false;
    throw statusError(res.status);
  }

  async createBlob(digest: string, body: AsyncIterable<Uint8Array>): Promise<void> {
    const res = await this.fetch("POST", `/api/blobs/${digest}`, { body, duplex: "half" } as unknown as RequestInit);
    const text = await res.text();
    if (res.status >= 400) throw new ApiError(res.status, errorMessage(text, res.status));
  }

  generate(body: GenerateBody, onChunk: (c: GenerateChunk) => void, signal?: AbortSignal): Promise<void> {
    return this.stream("/api/generate", body, onChunk, signal);
  }

  chat(body: ChatBody, onChunk: (c: ChatChunk) => void, signal?: AbortSignal): Promise<void> {
    return this.stream("/api/chat", body, onChunk, signal);
  }

  create(body: Record<string, unknown>, onChunk: (c: ProgressResponse) => void): Promise<void> {
    return this.stream("/api/create", body, onChunk);
  }

  pull(body: { model: string; insecure?: boolean }, onChunk: (c: ProgressResponse) => void): Promise<void> {
    return this.stream("/api/pull", body, onChunk);
  }

  push(body: { model: string; insecure?: boolean }, onChunk: (c: ProgressResponse) => void): Promise<void> {
    return this.stream("/api/push", body, onChunk);
  }

  /** POSTs `body` and calls `onChunk` for each NDJSON line of the answer. */
  async stream<T>(path: string, body: unknown, onChunk: (chunk: T) => void, signal?: AbortSignal): Promise<void> {
    const res = await this.fetch("POST", path, { body: JSON.stringify(body), signal });
    const status = `${res.status} ${STATUS_CODES[res.status] ?? ""}`.trim();
    const handle = (line: string) => {
      if (!line.trim()) return;
      let parsed: Record<string, unknown>;
      try {
        parsed = JSON.parse(line);
      } catch {
        throw res.status >= 400 ? new ApiError(res.status, `${status}: ${line}`) : new Error(line);
      }
      if (res.status === 401) throw new ApiError(401, withKeyHint(`${status}: ${String(parsed.error ?? "")}`));
      if (res.status >= 400) throw new ApiError(res.status, `${status}: ${String(parsed.error ?? "")}`);
      if (typeof parsed.error === "string" && parsed.error) throw new Error(parsed.error);
      onChunk(parsed as T);
    };
    if (!res.body) return;
    const decoder = new TextDecoder();
    let buffered = "";
    for await (const part of res.body as unknown as AsyncIterable<Uint8Array>) {
      buffered += decoder.decode(part, { stream: true });
      let nl: number;
      while ((nl = buffered.indexOf("\n")) >= 0) {
        handle(buffered.slice(0, nl));
        buffered = buffered.slice(nl + 1);
      }
    }
    handle(buffered + decoder.decode());
    if (res.status >= 400) throw new ApiError(res.status, status);
  }
}
