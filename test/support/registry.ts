// Real registries for the pull/push tests: Debian's docker-registry on a free loopback port with its own
// storage and config (open, htpasswd basic auth, or token auth against a small token server here), a
// counting proxy that can hold a transfer mid-blob, and a blob store on another host for redirects.
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { createHash, createSign, generateKeyPairSync, randomBytes, X509Certificate } from "node:crypto";
import { createReadStream, existsSync } from "node:fs";
import { mkdtemp, readFile, stat, writeFile } from "node:fs/promises";
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "./server.js";

/** Installs a Debian package when its command is missing (the tests run as root, as CI does). */
function ensureCommand(command: string, pkg: string): string {
  const find = () => {
    for (const dir of (process.env.PATH ?? "").split(":").concat(["/usr/bin", "/usr/sbin"])) {
      if (dir && existsSync(join(dir, command))) return join(dir, command);
    }
    return undefined;
  };
  const found = find();
  if (found) return found;
  if (process.getuid?.() !== 0) throw new Error(`${command} is missing; install the Debian package ${pkg}`);
  execFileSync("apt-get", ["update", "-qq"], { stdio: "ignore" });
  execFileSync("apt-get", ["install", "-y", "-qq", pkg], { stdio: "ignore", env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" } });
  const installed = find();
  if (!installed) throw new Error(`installing ${pkg} did not provide ${command}`);
  return installed;
}

export const registryBinary = () => ensureCommand("docker-registry", "docker-registry");

/** An htpasswd line with a bcrypt hash: htpasswd when installed, else Perl's crypt (libxcrypt does bcrypt). */
export function htpasswdLine(user: string, password: string): string {
  try {
    return execFileSync("htpasswd", ["-nbB", "-C", "5", user, password], { encoding: "utf8" }).trim();
  } catch {
    const alphabet = "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    const salt = Array.from(randomBytes(22), (b) => alphabet[b % 64]).join("");
    const hash = execFileSync("perl", ["-e", "print crypt($ARGV[0], $ARGV[1])", password, `$2b$05$${salt}`], { encoding: "utf8" });
    if (!hash.startsWith("$2b$05$")) throw new Error("no bcrypt available: install apache2-utils");
    return `${user}:${hash}`;
  }
}

export interface TokenAuth {
  realm: string;
  service: string;
  issuer: string;
  certPath: string;
}

export interface RegistryOptions {
  htpasswd?: { user: string; password: string };
  token?: TokenAuth;
}

export interface TestRegistry {
  port: number;
  /** `127.0.0.1:<port>`, the host part of model names. */
  host: string;
  url: string;
  dir: string;
  output: () => string;
  /** The file docker-registry keeps a blob's bytes in. */
  blobFile(digest: string): string;
  kill(): Promise<void>;
  restart(): Promise<void>;
  stop(): Promise<void>;
}

function registryConfig(port: number, dir: string, auth: string): string {
  return [
    "version: 0.1",
    "log:",
    "  level: warn",
    "  accesslog:",
    "    disabled: true",
    "storage:",
    "  filesystem:",
    `    rootdirectory: ${join(dir, "data")}`,
    "  delete:",
    "    enabled: true",
    "  maintenance:",
    "    uploadpurging:",
    "      enabled: false",
    "http:",
    `  addr: 127.0.0.1:${port}`,
    "  secret: corral-test-secret",
    auth,
  ].join("\n") + "\n";
}

async function authConfig(dir: string, opts: RegistryOptions): Promise<string> {
  if (opts.htpasswd) {
    const file = join(dir, "htpasswd");
    await writeFile(file, htpasswdLine(opts.htpasswd.user, opts.htpasswd.password) + "\n");
    return ["auth:", "  htpasswd:", "    realm: corral-test", `    path: ${file}`].join("\n");
  }
  if (opts.token) {
    const t = opts.token;
    return ["auth:", "  token:", `    realm: ${t.realm}`, `    service: ${t.service}`, `    issuer: ${t.issuer}`, `    rootcertbundle: ${t.certPath}`].join("\n");
  }
  return "";
}

// A test process that dies early does not leave its registries running.
const running = new Set<ChildProcess>();
process.once("exit", () => running.forEach((p) => p.kill("SIGKILL")));

export async function startRegistry(opts: RegistryOptions = {}): Promise<TestRegistry> {
  const bin = registryBinary();
  const dir = await mkdtemp(join(tmpdir(), "corral-registry-"));
  const port = await freePort();
  const config = join(dir, "config.yml");
  await writeFile(config, registryConfig(port, dir, await authConfig(dir, opts)));
  const url = `http://127.0.0.1:${port}`;
  let proc: ChildProcess;
  let out = "";

  const launch = async () => {
    proc = spawn(bin, ["serve", config], { stdio: ["ignore", "pipe", "pipe"] });
    running.add(proc);
    proc.once("exit", () => running.delete(proc));
    proc.stdout!.on("data", (d) => (out += d));
    proc.stderr!.on("data", (d) => (out += d));
    const deadline = Date.now() + 20_000;
    for (;;) {
      if (proc.exitCode !== null) throw new Error(`docker-registry exited: ${out}`);
      const status = await fetch(`${url}/v2/`).then((r) => r.status, () => 0);
      if (status === 200 || status === 401) return;
      if (Date.now() > deadline) throw new Error(`docker-registry did not start: ${out}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const kill = async () => {
    if (proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise((r) => proc.once("exit", r));
    proc.kill("SIGKILL");
    await exited;
  };
  await launch();
  return {
    port,
    host: `127.0.0.1:${port}`,
    url,
    dir,
    output: () => out,
    blobFile: (digest) => {
      const hex = digest.replace(/^sha256:/, "");
      return join(dir, "data/docker/registry/v2/blobs/sha256", hex.slice(0, 2), hex, "data");
    },
    kill,
    restart: launch,
    async stop() {
      await kill();
      execFileSync("rm", ["-rf", dir]);
    },
  };
}

// ---- token server ----

export interface TokenServer {
  auth: TokenAuth;
  /** Every token request: the scopes asked for and whether it carried valid credentials. */
  requests: { scopes: string[]; authorized: boolean; authorization?: string }[];
  close(): Promise<void>;
}

const b64url = (b: Buffer | string) => Buffer.from(b).toString("base64url");

/**
 * A Docker token server: checks HTTP basic credentials and signs ES256 JWTs that docker-registry's
 * token auth verifies against a self-signed certificate (made with openssl).
 */
export async function startTokenServer(user: string, password: string): Promise<TokenServer> {
  const dir = await mkdtemp(join(tmpdir(), "corral-token-"));
  const { privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const keyPath = join(dir, "key.pem");
  const certPath = join(dir, "cert.pem");
  await writeFile(keyPath, privateKey.export({ type: "pkcs8", format: "pem" }));
  execFileSync("openssl", ["req", "-x509", "-new", "-key", keyPath, "-subj", "/CN=corral-test-token", "-days", "2", "-out", certPath], { stdio: "ignore" });
  const certDer = new X509Certificate(await readFile(certPath)).raw;
  const issuer = "corral-test-issuer";
  const service = "corral-test-registry";
  const requests: TokenServer["requests"] = [];
  const expected = `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    const scopes = url.searchParams.getAll("scope");
    const authorized = req.headers.authorization === expected;
    requests.push({ scopes, authorized, authorization: req.headers.authorization });
    if (!authorized) {
      res.writeHead(401, { "Content-Type": "application/json" }).end('{"details":"bad credentials"}');
      return;
    }
    const access = scopes.map((s) => {
      const [type, name, actions] = s.split(":");
      return { type, name, actions: (actions ?? "").split(",") };
    });
    const now = Math.floor(Date.now() / 1000);
    const header = b64url(JSON.stringify({ typ: "JWT", alg: "ES256", x5c: [certDer.toString("base64")] }));
    const claims = b64url(JSON.stringify({ iss: issuer, sub: user, aud: service, exp: now + 600, nbf: now - 60, iat: now, jti: randomBytes(8).toString("hex"), access }));
    const signature = createSign("SHA256").update(`${header}.${claims}`).sign({ key: privateKey, dsaEncoding: "ieee-p1363" });
    res.writeHead(200, { "Content-Type": "application/json" }).end(JSON.stringify({ token: `${header}.${claims}.${b64url(signature)}` }));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as AddressInfo).port;
  return {
    auth: { realm: `http://127.0.0.1:${port}/token`, service, issuer, certPath },
    requests,
    close: () => new Promise((r) => server.close(() => r())),
  };
}

// ---- counting proxy ----

export interface ProxyRequest {
  method: string;
  path: string;
  range?: string;
  authorization?: string;
  status?: number;
  /** Request body bytes forwarded (uploads). */
  sent: number;
  /** The client went away before the answer was complete. */
  closedEarly?: boolean;
}

export interface CountingProxy {
  url: string;
  host: string;
  /** Response body bytes of blob GETs forwarded to clients. */
  blobBytes: () => number;
  requests: ProxyRequest[];
  /** Resolves once exactly `bytes` blob bytes have been served, then holds every blob response until release(). */
  holdAt(bytes: number): Promise<void>;
  release(): void;
  /** Blob GETs are answered with a 307 to this base URL (blob storage on another host). */
  redirectBlobsTo?: string;
  close(): Promise<void>;
}

const BLOB_GET = /^\/v2\/.+\/blobs\/sha256:[0-9a-f]{64}$/;

/** A loopback HTTP proxy in front of `upstream` that counts what it serves and can stall it. */
export async function startProxy(upstream: string): Promise<CountingProxy> {
  const target = new URL(upstream);
  let served = 0;
  let threshold = Infinity;
  let reached: (() => void) | undefined;
  /** Held blob answers, each with what resumes it (the unsent rest of the chunk first). */
  let held: { ures: IncomingMessage; resume: () => void }[] = [];
  let holding = false;
  const requests: ProxyRequest[] = [];

  const proxy: CountingProxy = {
    url: "",
    host: "",
    blobBytes: () => served,
    requests,
    holdAt(bytes) {
      threshold = bytes;
      return new Promise((r) => (reached = r));
    },
    release() {
      threshold = Infinity;
      holding = false;
      for (const h of held) h.resume();
      held = [];
    },
    close: () => new Promise((r) => server.close(() => r())),
  };

  const server = http.createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? "/").split("?")[0]!;
    const entry: ProxyRequest = { method: req.method ?? "", path, range: req.headers.range, authorization: req.headers.authorization, sent: 0 };
    requests.push(entry);
    const isBlobGet = req.method === "GET" && BLOB_GET.test(path);
    if (isBlobGet && proxy.redirectBlobsTo) {
      entry.status = 307;
      res.writeHead(307, { Location: `${proxy.redirectBlobsTo}${path}` }).end();
      return;
    }
    req.on("data", (c: Buffer) => (entry.sent += c.length));
    const up = http.request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers }, (ures) => {
      entry.status = ures.statusCode;
      res.writeHead(ures.statusCode ?? 502, ures.headers);
      const send = (c: Buffer) => {
        if (isBlobGet) served += c.length;
        // Counted bytes are bytes the client is taking: no buffering here beyond the socket's.
        if (!res.write(c)) {
          ures.pause();
          res.once("drain", () => !held.some((h) => h.ures === ures) && ures.resume());
        }
      };
      const hold = (rest: Buffer) => {
        ures.pause();
        held.push({ ures, resume: () => (rest.length > 0 && !res.destroyed && send(rest), ures.resume()) });
      };
      ures.on("data", (c: Buffer) => {
        if (!isBlobGet) return send(c);
        if (holding) return hold(c);
        // Exactly `threshold` bytes go out, however the chunks fall and however many answers run at once.
        const room = Math.max(0, threshold - served);
        if (c.length < room) return send(c);
        send(c.subarray(0, room));
        holding = true;
        reached?.();
        reached = undefined;
        hold(c.subarray(room));
      });
      ures.on("end", () => res.end());
      ures.on("error", () => res.destroy());
      // The registry went away mid-answer: so does this answer.
      ures.on("close", () => !ures.complete && res.destroy());
    });
    up.on("error", () => (res.headersSent ? res.destroy() : res.writeHead(502).end()));
    res.on("close", () => {
      if (res.writableFinished) return;
      entry.closedEarly = true;
      up.destroy();
    });
    req.pipe(up);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as AddressInfo).port;
  proxy.url = `http://127.0.0.1:${port}`;
  proxy.host = `127.0.0.1:${port}`;
  return proxy;
}

// ---- blob storage on another host ----

export interface BlobStorage {
  /** `http://[::1]:<port>`: another host than the registry's 127.0.0.1. */
  url: string;
  requests: { path: string; range?: string; authorization?: string }[];
  close(): Promise<void>;
}

/** Serves a registry's blob files by digest with Range support, as a CDN behind a redirect would. */
export async function startBlobStorage(registry: TestRegistry): Promise<BlobStorage> {
  const requests: BlobStorage["requests"] = [];
  const server = http.createServer(async (req, res) => {
    requests.push({ path: req.url ?? "", range: req.headers.range, authorization: req.headers.authorization });
    const digest = /sha256:[0-9a-f]{64}$/.exec(req.url ?? "")?.[0];
    const file = digest && registry.blobFile(digest);
    const size = file ? await stat(file).then((s) => s.size, () => -1) : -1;
    if (!file || size < 0) return void res.writeHead(404).end();
    const m = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? "");
    if (!m) {
      res.writeHead(200, { "Content-Length": size });
      return void createReadStream(file).pipe(res);
    }
    const start = Number(m[1]);
    const end = m[2] ? Math.min(Number(m[2]), size - 1) : size - 1;
    res.writeHead(206, { "Content-Length": end - start + 1, "Content-Range": `bytes ${start}-${end}/${size}` });
    createReadStream(file, { start, end }).pipe(res);
  });
  await new Promise<void>((r) => server.listen(0, "::1", r));
  const port = (server.address() as AddressInfo).port;
  return { url: `http://[::1]:${port}`, requests, close: () => new Promise((r) => server.close(() => r())) };
}

// ---- putting models straight into a registry ----

export const sha256 = (b: Buffer) => `sha256:${createHash("sha256").update(b).digest("hex")}`;

/** Deterministic pseudo-random bytes (fast, and the same every run). */
export function blobOf(size: number, seed: number): Buffer {
  const out = Buffer.allocUnsafe(size);
  let block = createHash("sha256").update(`seed-${seed}`).digest();
  for (let off = 0; off < size; off += block.length) {
    block.copy(out, off);
    block = createHash("sha256").update(block).digest();
  }
  return out;
}

async function uploadMonolithic(base: string, repo: string, data: Buffer, headers: Record<string, string>): Promise<string> {
  const digest = sha256(data);
  const start = await fetch(`${base}/v2/${repo}/blobs/uploads/`, { method: "POST", headers });
  if (start.status !== 202) throw new Error(`upload start: ${start.status} ${await start.text()}`);
  const loc = new URL(start.headers.get("location")!, base);
  loc.searchParams.set("digest", digest);
  const put = await fetch(loc, { method: "PUT", headers: { ...headers, "Content-Type": "application/octet-stream" }, body: data });
  if (put.status !== 201) throw new Error(`upload: ${put.status} ${await put.text()}`);
  return digest;
}

/**
 * Puts a model straight into a registry (no corral involved): a config blob, one model layer per
 * buffer, and the manifest. Returns the manifest bytes and the layer digests.
 */
export async function seedModel(base: string, repo: string, tag: string, layers: Buffer[], headers: Record<string, string> = {}) {
  const config = Buffer.from('{"model_format":"gguf","model_family":"test","model_families":["test"],"model_type":"1K","file_type":"F32","architecture":"amd64","os":"linux"}\n');
  const configDigest = await uploadMonolithic(base, repo, config, headers);
  const digests: string[] = [];
  for (const l of layers) digests.push(await uploadMonolithic(base, repo, l, headers));
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: "application/vnd.docker.distribution.manifest.v2+json",
      config: { mediaType: "application/vnd.docker.container.image.v1+json", digest: configDigest, size: config.length },
      layers: layers.map((l, i) => ({ mediaType: "application/vnd.ollama.image.model", digest: digests[i], size: l.length })),
    }),
  );
  const put = await fetch(`${base}/v2/${repo}/manifests/${tag}`, {
    method: "PUT",
    headers: { ...headers, "Content-Type": "application/vnd.docker.distribution.manifest.v2+json" },
    body: manifest,
  });
  if (put.status !== 201) throw new Error(`manifest: ${put.status} ${await put.text()}`);
  return { manifest, digests, configDigest };
}
