// fetch for a server whose certificate comes from a private CA (CORRAL_TLS_CA). Node 20's built-in
// fetch cannot be given extra CAs per call, so this sends with node:https, trusting the bundled
// root CAs plus the given PEM, and hands back a standard Response.
import { request as httpRequest, type IncomingMessage } from "node:http";
import { request as httpsRequest } from "node:https";
import { Readable } from "node:stream";
import { rootCertificates } from "node:tls";

export type Fetch = (url: string, init?: RequestInit) => Promise<Response>;

function toResponse(res: IncomingMessage, method: string): Response {
  const status = res.statusCode ?? 500;
  const headers = new Headers();
  for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) headers.set(k, Array.isArray(v) ? v.join(", ") : v);
  // A Response may not carry a body for these, and a HEAD answer has none.
  if (method === "HEAD" || status === 204 || status === 205 || status === 304) {
    res.resume();
    return new Response(null, { status, headers });
  }
  return new Response(Readable.toWeb(res) as ReadableStream<Uint8Array>, { status, headers });
}

export function fetchTrustingCa(caPem: string): Fetch {
  const ca = [...rootCertificates, caPem];
  return (url, init = {}) =>
    new Promise<Response>((resolve, reject) => {
      const target = new URL(url);
      const method = init.method ?? "GET";
      const send = target.protocol === "https:" ? httpsRequest : httpRequest;
      const req = send(
        target,
        { method, headers: init.headers as Record<string, string>, signal: init.signal ?? undefined, ca },
        (res) => resolve(toResponse(res, method)),
      );
      req.on("error", (err) => {
        // Shaped like fetch's failures: callers read the cause (its code and message).
        reject(err.name === "AbortError" ? err : Object.assign(new TypeError("fetch failed"), { cause: err }));
      });
      const body = init.body as unknown;
      if (body === undefined || body === null) req.end();
      else if (typeof body === "string" || body instanceof Uint8Array) req.end(body);
      else Readable.from(body as AsyncIterable<Uint8Array>).on("error", (e) => req.destroy(e)).pipe(req);
    });
}
