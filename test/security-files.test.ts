// File disclosure and existence probing: /api/create's file maps and the blob routes take only
// relative file names and sha256 digests, and answer the same whatever exists on the server's disk.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readdir } from "node:fs/promises";
import { request } from "node:http";
import { join } from "node:path";
import { postJson, startTestServer, type TestServer } from "./support/server.js";

let srv: TestServer;
before(async () => (srv = await startTestServer()));
after(async () => srv?.stop());

/** A raw request: fetch would resolve `..` segments and re-encode the path before sending it. */
function raw(method: string, path: string, body?: Buffer): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port: srv.port, method, path }, (res) => {
      let text = "";
      res.on("data", (d) => (text += d));
      res.on("end", () => resolve({ status: res.statusCode!, text }));
    });
    req.on("error", reject);
    req.end(body);
  });
}

const blobEntries = () => readdir(join(srv.models, "blobs")).catch(() => [] as string[]);
const hex = "ab".repeat(32);

test("the blob routes answer 400 to malformed digests and write nothing", async () => {
  for (const digest of [
    "sha256:..%2F..%2F..%2Ftmp%2Fx",
    "sha256-..",
    "sha256:abc",
    `sha256:${hex}0`,
    `sha256:${hex.slice(1)}g`,
    `sha512:${hex}${hex}`,
    `sha256:${hex}%2F..%2F..%2Fx`,
    `sha256:${hex}%00`,
    "..%2F..%2Fetc%2Fpasswd",
    hex,
  ]) {
    // Parameters past fastify's maxParamLength (100) are refused by the router itself: 414.
    const want = digest.length > 100 ? 414 : 400;
    const head = await raw("HEAD", `/api/blobs/${digest}`);
    assert.equal(head.status, want, `HEAD ${digest}`);
    const post = await raw("POST", `/api/blobs/${digest}`, Buffer.from("some bytes"));
    assert.equal(post.status, want, `POST ${digest}: ${post.text}`);
    if (want === 400) assert.deepEqual(JSON.parse(post.text), { error: "invalid digest format" });
  }
  assert.deepEqual(await blobEntries(), []);
});

const create = (fields: Record<string, unknown>) => postJson(srv.url, "/api/create", { model: "probe", stream: false, ...fields });

test("create refuses absolute and '..' file paths in files, adapters and draft_files", async () => {
  const digest = `sha256:${hex}`;
  for (const field of ["files", "adapters", "draft_files"]) {
    for (const path of ["/etc/passwd", "../model.gguf", "a/../../b.gguf", "a/../b.gguf", "..", "\\\\server\\share", "C:\\model.gguf", "a//b.gguf", ""]) {
      const res = await create({ files: { "model.gguf": digest }, [field]: { [path]: digest } });
      assert.equal(res.status, 400, `${field} ${JSON.stringify(path)}: ${res.text}`);
      assert.equal(res.json.error, "file path must be relative", `${field} ${JSON.stringify(path)}`);
    }
  }
  assert.deepEqual(await blobEntries(), []);
});

test("create refuses digests that are not sha256:<64 hex>", async () => {
  for (const field of ["files", "adapters", "draft_files"]) {
    for (const digest of ["", "sha256:../../etc/passwd", "/etc/passwd", "sha256:abc", `sha256:${hex}/..`, `md5:${hex}`]) {
      const res = await create({ files: { "model.gguf": `sha256:${hex}` }, [field]: { "x.gguf": digest } });
      assert.equal(res.status, 400, `${field} ${JSON.stringify(digest)}: ${res.text}`);
      assert.equal(res.json.error, "invalid digest format", `${field} ${JSON.stringify(digest)}`);
    }
  }
});

test("a missing blob answers the same whether or not a file with that content exists on disk", async () => {
  // /etc/hostname exists on the server's machine; a random digest matches nothing anywhere.
  const { readFile } = await import("node:fs/promises");
  const present = `sha256:${createHash("sha256").update(await readFile("/etc/hostname")).digest("hex")}`;
  const absent = `sha256:${"0".repeat(64)}`;
  const answers = [];
  for (const digest of [present, absent]) {
    const res = await create({ files: { "model.gguf": digest } });
    assert.equal(res.status, 400, res.text);
    assert.ok(!res.json.error.includes(srv.models), "the message names no server path");
    assert.doesNotMatch(res.json.error, /ENOENT|EACCES|no such file/i);
    answers.push(res.json.error.replaceAll(digest, "<digest>"));
    const head = await raw("HEAD", `/api/blobs/${digest}`);
    assert.equal(head.status, 404);
  }
  assert.equal(answers[0], answers[1]);
});
