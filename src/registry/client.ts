// A session with one repository of an OCI / Docker v2 registry: URLs, authentication on 401 (one
// retry, as Ollama's makeRequestWithRetry), redirects, and Ollama's error wording. The Authorization
// header only goes to the registry's own host; a redirect elsewhere (blob storage) goes without it.
import type { IncomingMessage } from "node:http";
import type { ModelName } from "../store/name.js";
import { basicHeader, fetchToken, parseChallenge } from "./auth.js";
import { credentialsFor, type Credentials } from "./credentials.js";
import { discard, readText, send, type HttpRequest } from "./http.js";
import { ApiError } from "../api/errors.js";

export interface RegistryOptions {
  /** Hosts (`name:port`, lower case) reached over http without the request's `insecure`. */
  insecureHosts: string[];
  /** Docker-style credentials file. */
  authFile: string;
  userAgent: string;
}


/** The registry answered 404; Ollama reports it as Go's os.ErrNotExist text. */
export class NotFoundError extends ApiError {
  constructor() {
    super(404, "file does not exist");
    this.name = "NotFoundError";
  }
}

export const UNAUTHORIZED = "unauthorized: access denied";

export interface RequestInit {
  headers?: Record<string, string>;
  body?: HttpRequest["body"];
  signal?: AbortSignal;
  idleTimeout?: number;
  /**
   * "same-host": stop at the first redirect to another host and return it (its Location is the
   * blob's direct URL); "manual": return every redirect.
   */
  redirect?: "follow" | "same-host" | "manual";
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const MAX_REDIRECTS = 10;

export class Repository {
  readonly base: URL;
  /** `<namespace>/<model>` */
  readonly path: string;
  private authorization?: string;
  private credentials?: Promise<Credentials | undefined>;
  private pendingAuth?: { challenge: string; done: Promise<void> };

  constructor(
    /** The model asked for (its tag included). */
    readonly name: ModelName,
    insecure: boolean,
    private readonly opts: RegistryOptions,
  ) {
    const plain = insecure || opts.insecureHosts.includes(name.host.toLowerCase());
    this.base = new URL(`${plain ? "http" : "https"}://${name.host}`);
    this.path = `${name.namespace}/${name.model}`;
  }

  /** `<base>/v2/<ns>/<model>/<rest>`; `rest` segments are digests, tags and fixed words. */
  url(...rest: string[]): URL {
    return new URL(`/v2/${this.path}/${rest.join("/")}`, this.base);
  }

  /** Whether requests to `url` carry the registry's Authorization header. */
  isRegistryHost(url: URL): boolean {
    return url.host.toLowerCase() === this.base.host.toLowerCase();
  }

  /** Headers for a request to `url`: the user agent, plus the registry's credentials on its own host. */
  headersFor(url: URL, extra?: Record<string, string>): Record<string, string> {
    const h: Record<string, string> = { "User-Agent": this.opts.userAgent, ...extra };
    if (this.authorization && this.isRegistryHost(url)) h.Authorization = this.authorization;
    return h;
  }

  /**
   * Sends a request, authenticating on a 401 and retrying once. 404 throws NotFoundError, other
   * statuses >= 400 throw `<status>: <body>`; the caller gets any other response to read.
   */
  async request(method: string, url: URL, init: RequestInit = {}): Promise<IncomingMessage> {
    let body = init.body;
    let authRetried = false;
    for (let hops = 0; ; ) {
      const res = await send({ method, url, headers: this.headersFor(url, init.headers), body, signal: init.signal, idleTimeout: init.idleTimeout });
      const status = res.statusCode ?? 0;
      const location = res.headers.location;
      if (REDIRECTS.has(status) && location) {
        const next = new URL(location, url);
        if (init.redirect === "manual" || (init.redirect === "same-host" && !this.isRegistryHost(next))) return res;
        discard(res);
        if (++hops > MAX_REDIRECTS) throw new Error(`${method} "${url.href}": stopped after ${MAX_REDIRECTS} redirects`);
        if (status === 303 || ((status === 301 || status === 302) && method === "POST")) {
          method = "GET";
          body = undefined;
        }
        url = next;
        continue;
      }
      if (status === 401 && this.isRegistryHost(url)) {
        const challenge = res.headers["www-authenticate"];
        discard(res);
        if (authRetried) throw new ApiError(401, UNAUTHORIZED);
        authRetried = true;
        await this.authenticate(challenge, init.signal);
        continue;
      }
      if (status === 404) {
        discard(res);
        throw new NotFoundError();
      }
      if (status >= 400) throw new ApiError(status, `${status}: ${(await readText(res)).trim()}`);
      return res;
    }
  }

  /** Answers a challenge; concurrent requests hit by the same challenge share one token request. */
  private async authenticate(header: string | string[] | undefined, signal?: AbortSignal): Promise<void> {
    const key = String(header ?? "");
    let pending = this.pendingAuth;
    if (pending?.challenge !== key) {
      const done = this.answer(header, signal);
      pending = this.pendingAuth = { challenge: key, done };
      // Only while in flight: a later 401 (an expired token) asks again.
      void done.then(
        () => this.pendingAuth === pending && (this.pendingAuth = undefined),
        () => this.pendingAuth === pending && (this.pendingAuth = undefined),
      );
    }
    await pending.done;
  }

  private async answer(header: string | string[] | undefined, signal?: AbortSignal): Promise<void> {
    const challenge = parseChallenge(header);
    this.credentials ??= credentialsFor(this.opts.authFile, this.base.host);
    const credentials = await this.credentials;
    if (challenge?.scheme === "bearer") {
      const token = await fetchToken(challenge, { registryHost: this.base.host, credentials, userAgent: this.opts.userAgent, signal });
      this.authorization = `Bearer ${token}`;
    } else if (challenge?.scheme === "basic" && credentials) {
      this.authorization = basicHeader(credentials);
    } else {
      throw new ApiError(401, UNAUTHORIZED);
    }
  }
}
