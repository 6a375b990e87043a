// The Host check against DNS rebinding decides every Host header form as Ollama's
// allowedHostsMiddleware does, and only when the server is bound to a loopback address.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { request } from "node:http";
import { hostname, networkInterfaces } from "node:os";
import { startTestServer, type TestServer } from "./support/server.js";

let srv: TestServer;
before(async () => (srv = await startTestServer()));
after(async () => srv?.stop());

function status(port: number, host: string, method = "GET", headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, method, path: "/api/version", headers: { ...headers, host } }, (res) => {
      res.resume();
      resolve(res.statusCode!);
    });
    req.on("error", reject);
    req.end();
  });
}

test("a loopback server answers the loopback, private and local forms of Host", async () => {
  const p = srv.port;
  const allowed = [
    `127.0.0.1:${p}`, "127.0.0.1", "127.8.9.10:1", `localhost:${p}`, "localhost", "LocalHost:80",
    `[::1]:${p}`, "::1", "[::ffff:127.0.0.1]:80", "0.0.0.0:80", "[::]:80",
    "10.1.2.3", "172.16.0.1:8080", "192.168.1.5", "fd00::1", "[fc12::3]:1",
    "app.localhost", "printer.local:631", "metadata.google.internal", `${hostname()}:${p}`, hostname().toUpperCase(),
    // Go's SplitHostPort takes anything in brackets before a port; the rest is checked as above.
    `[127.0.0.1]:${p}`, ":80",
  ];
  for (const host of allowed) assert.equal(await status(p, host), 200, `Host: ${host}`);
});

test("a loopback server refuses foreign and odd Host forms with 403", async () => {
  const refused = [
    "evil.example.com", `evil.example.com:${srv.port}`, "localhost.evil.com", "localhost.", "8.8.8.8", "172.32.0.1:80",
    "1.2.3.4:11434", "[2001:db8::1]:80", "fe80::1",
    // Go's SplitHostPort fails on these, and the whole header is not an address or an allowed name.
    "[::1]", "[::1]:1:2", "127.0.0.1:1:2",
  ];
  for (const host of refused) assert.equal(await status(srv.port, host), 403, `Host: ${host}`);
});

test("the machine's own interface addresses are accepted", async () => {
  const own = Object.values(networkInterfaces()).flatMap((l) => l ?? []).filter((a) => a.family === "IPv4");
  for (const a of own) assert.equal(await status(srv.port, `${a.address}:${srv.port}`), 200, a.address);
});

test("OPTIONS to an allowed host name is answered 204; CORS preflights come before the Host check", async () => {
  assert.equal(await status(srv.port, "localhost", "OPTIONS"), 204);
  assert.equal(await status(srv.port, "evil.example.com", "OPTIONS"), 403);
  const preflight = { origin: "http://localhost:3000", "access-control-request-method": "POST" };
  assert.equal(await status(srv.port, "evil.example.com", "OPTIONS", preflight), 204);
  assert.equal(await status(srv.port, "evil.example.com", "GET", { origin: "http://localhost:3000" }), 403);
  assert.equal(await status(srv.port, "localhost", "GET", { origin: "https://evil.example" }), 403);
});

test("a server bound to every address does not check Host", async () => {
  const open = await startTestServer({}, { bind: "0.0.0.0" });
  try {
    assert.equal(await status(open.port, "evil.example.com"), 200);
    assert.equal(await status(open.port, "[::1]"), 200);
  } finally {
    await open.stop();
  }
});
