// The browser chat page: at /ui, and at / for a browser (Accept: text/html). Every other client probing
// / still gets Ollama's plain "Ollama is running".
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { loadAssets, type Asset } from "../ui/assets.js";

// The page runs only its own files and talks only to this server: model text can never load a script.
const PAGE_POLICY = [
  "default-src 'self'",
  "img-src 'self' data: blob:",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

function wantsHtml(accept: string | undefined): boolean {
  return /\btext\/html\b/i.test(accept ?? "");
}

function sendAsset(request: FastifyRequest, reply: FastifyReply, asset: Asset) {
  // Revalidate every time: a new corral version must never run with an old script.
  reply.header("Cache-Control", "no-cache");
  reply.header("ETag", asset.etag);
  reply.header("X-Content-Type-Options", "nosniff");
  if (asset.type.startsWith("text/html")) {
    reply.header("Content-Security-Policy", PAGE_POLICY);
    reply.header("Referrer-Policy", "no-referrer");
  }
  if (request.headers["if-none-match"] === asset.etag) return reply.code(304).send();
  return reply.code(200).type(asset.type).send(asset.body);
}

export async function registerUiRoutes(app: FastifyInstance): Promise<void> {
  const assets = await loadAssets();
  const index = assets.get("index.html")!;

  app.get("/", (request, reply) => {
    reply.header("Vary", "Accept");
    if (wantsHtml(request.headers.accept)) return sendAsset(request, reply, index);
    return reply.type("text/plain; charset=utf-8").send("Ollama is running");
  });
  app.get("/ui", (request, reply) => sendAsset(request, reply, index));
  app.get("/ui/", (request, reply) => sendAsset(request, reply, index));
  app.get<{ Params: { file: string } }>("/ui/:file", (request, reply) => {
    const asset = assets.get(request.params.file);
    if (!asset) return reply.code(404).type("text/plain").send("404 page not found");
    return sendAsset(request, reply, asset);
  });
}
