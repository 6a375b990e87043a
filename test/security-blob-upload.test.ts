// Blob uploads that are wrong or never finish leave no file behind.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { readdir } from "node:fs/promises";
import { request } from "node:http";
import { join } from "node:path";
import { startTestServer, type TestServer } from "./support/server.js";

let srv: TestServer;
before(async () => (srv = await startTestServer()));
after(async () => srv?.stop());

const MiB = Buffer.alloc(1 << 20, 0x20);

const blobFiles = () => readdir(join(srv.models, "blobs")).catch(() => [] as string[]);

test("a blob upload with the wrong digest is refused and leaves no file", async () => {
  const digest = `sha256:${"1".repeat(64)}`;
  const res = await fetch(`${srv.url}/api/blobs/${digest}`, { method: "POST", body: Buffer.alloc(5 << 20, 1) });
  assert.equal(res.status, 400);
  assert.match(((await res.json()) as { error: string }).error, /^digest mismatch, expected "sha256:1{64}", got "sha256:/);
  assert.deepEqual(await blobFiles(), []);
});

test("an endless blob upload that the client abandons leaves no file", async () => {
  const req = request({ host: "127.0.0.1", port: srv.port, method: "POST", path: `/api/blobs/sha256:${"2".repeat(64)}`, headers: { "transfer-encoding": "chunked" } });
  req.on("error", () => {});
  for (let i = 0; i < 32; i++) if (!req.write(MiB)) await new Promise((r) => req.once("drain", r));
  assert.equal((await blobFiles()).length, 1, "the upload is being written to a temp file");
  req.destroy();
  const deadline = Date.now() + 5000;
  while ((await blobFiles()).length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  assert.deepEqual(await blobFiles(), []);
  assert.equal((await fetch(`${srv.url}/api/version`)).status, 200);
});
