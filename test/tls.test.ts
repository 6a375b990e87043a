// HTTPS: a certificate made here with openssl (a private CA and a server certificate for
// 127.0.0.1/localhost), node's https trusting that CA, the CLI with CORRAL_TLS_CA, and the
// startup error for half a TLS configuration.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli } from "./support/cli.js";
import { freePort, httpsGet, ROOT, startTestServer, STORIES, type TestServer } from "./support/server.js";

let dir: string;
let ca: string;
let srv: TestServer;

function openssl(args: string[]) {
  execFileSync("openssl", args, { cwd: dir, stdio: ["ignore", "ignore", "pipe"] });
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "corral-tls-"));
  openssl(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=corral test CA"]);
  openssl(["req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost"]);
  await writeFile(join(dir, "san.ext"), "subjectAltName=IP:127.0.0.1,DNS:localhost\n");
  openssl(["x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out", "server.pem", "-days", "2", "-extfile", "san.ext"]);
  ca = await readFile(join(dir, "ca.pem"), "utf8");
  srv = await startTestServer(
    { CORRAL_TLS_CERT: join(dir, "server.pem"), CORRAL_TLS_KEY: join(dir, "server.key"), CORRAL_API_KEYS: "tls-key" },
    { ca },
  );
});
after(async () => {
  await srv?.stop();
  await rm(dir, { recursive: true, force: true });
});

test("the server speaks HTTPS with the configured certificate", async () => {
  assert.match(srv.url, /^https:/);
  assert.match(srv.output(), /listening on https:\/\/127\.0\.0\.1:/);
  const root = await httpsGet(srv.url, ca);
  assert.deepEqual(root, { status: 200, text: "Ollama is running" });
  const tags = await httpsGet(`${srv.url}/api/tags`, ca, { authorization: "Bearer tls-key" });
  assert.equal(tags.status, 200);
  assert.deepEqual(JSON.parse(tags.text), { models: [] });
  // Without the CA the certificate is not trusted.
  await assert.rejects(fetch(srv.url), (e: { cause?: { code?: string } }) => /CERT|SIGNED|VERIFY/.test(e.cause?.code ?? ""));
  // Plain HTTP to the HTTPS port gets nothing useful.
  await assert.rejects(fetch(srv.url.replace("https:", "http:")).then((r) => (r.ok ? r : Promise.reject(new Error(String(r.status))))));
});

test("the CLI reaches an https OLLAMA_HOST trusting CORRAL_TLS_CA, and says how when it does not", async () => {
  const trusted = { CORRAL_TLS_CA: join(dir, "ca.pem"), CORRAL_API_KEY: "tls-key" };
  const ok = await runCli(srv.url, ["list"], { env: trusted });
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, /^NAME\s+ID/);
  // A create streams the GGUF up as a blob through the same CA-trusting transport.
  await writeFile(join(dir, "Modelfile"), `FROM ${STORIES}\n`);
  const created = await runCli(srv.url, ["create", "tls-stories", "-f", "Modelfile"], { cwd: dir, env: trusted });
  assert.equal(created.code, 0, created.stderr);
  const listed = await runCli(srv.url, ["list"], { env: trusted });
  assert.match(listed.stdout, /^tls-stories:latest\s/m);
  const untrusted = await runCli(srv.url, ["list"], { env: { CORRAL_API_KEY: "tls-key", CORRAL_TLS_CA: "" } });
  assert.equal(untrusted.code, 1);
  assert.match(untrusted.stderr, /^Error: .*CORRAL_TLS_CA/);
  const missing = await runCli(srv.url, ["list"], { env: { CORRAL_TLS_CA: join(dir, "absent.pem") } });
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /^Error: cannot read CORRAL_TLS_CA .*absent\.pem/);
});

test("a certificate without its key (or the reverse) stops the server at startup", async () => {
  for (const env of [{ CORRAL_TLS_CERT: join(dir, "server.pem") }, { CORRAL_TLS_KEY: join(dir, "server.key") }]) {
    const port = await freePort();
    const proc = spawn(process.execPath, [join(ROOT, "dist/src/cli/main.js"), "serve"], {
      env: { ...process.env, OLLAMA_HOST: `127.0.0.1:${port}`, OLLAMA_MODELS: dir, ...env },
      stdio: ["ignore", "ignore", "pipe"],
    });
    let err = "";
    proc.stderr.on("data", (d) => (err += d));
    const code = await new Promise((r) => proc.on("close", r));
    assert.equal(code, 1);
    assert.match(err, /^Error: CORRAL_TLS_(CERT|KEY) is set but CORRAL_TLS_(KEY|CERT) is not: HTTPS needs both/);
  }
});
