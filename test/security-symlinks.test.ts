// Links planted in the models directory never make corral read, list or write outside it: a blob
// linked to a file elsewhere, manifests and manifest directories linked elsewhere, a manifests/ or
// blobs/ directory that is itself a link, and links planted where a pull writes its partial files.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { lstat, mkdir, mkdtemp, readdir, readFile, rm, symlink, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { blobOf, seedModel, sha256, startRegistry, type TestRegistry } from "./support/registry.js";
import { createFromGguf, postJson, startTestServer, STORIES, type TestServer } from "./support/server.js";

const SECRET = "TOP SECRET: the outside file\n";
const hex = (b: Buffer | string) => createHash("sha256").update(b).digest("hex");
const LIB = ["manifests", "registry.ollama.ai", "library"];

let out: string;
let srv: TestServer;
let goodManifest: Buffer;

before(async () => {
  out = await mkdtemp(join(tmpdir(), "corral-outside-"));
  await writeFile(join(out, "secret.txt"), SECRET);
  srv = await startTestServer();
  await createFromGguf(srv.url, "good", STORIES);
  goodManifest = await readFile(join(srv.models, ...LIB, "good", "latest"));
});

after(async () => {
  await srv?.stop();
  await rm(out, { recursive: true, force: true });
});

/** The whole outside tree with contents, to prove nothing there was written, removed or added. */
async function snapshot(dir: string): Promise<Record<string, string>> {
  const shot: Record<string, string> = {};
  for (const e of await readdir(dir, { recursive: true })) {
    const st = await lstat(join(dir, e));
    shot[e] = st.isFile() ? (await readFile(join(dir, e))).toString("base64") : st.isDirectory() ? "dir" : "other";
  }
  return shot;
}

async function assertNoSecret(res: { status: number; text: string }, what: string) {
  assert.notEqual(res.status, 200, what);
  assert.ok(!res.text.includes("TOP SECRET"), `${what} must not show the outside file`);
}

test("a blob linked to an outside file is neither found, nor read, nor written through", async () => {
  const digest = `sha256:${hex(SECRET)}`;
  const blob = join(srv.models, "blobs", `sha256-${hex(SECRET)}`);
  await symlink(join(out, "secret.txt"), blob);
  const before = await snapshot(out);

  assert.equal((await fetch(`${srv.url}/api/blobs/${digest}`, { method: "HEAD" })).status, 404);
  // A manifest inside the store that names the linked blob as its template.
  const m = JSON.parse(goodManifest.toString());
  m.layers.push({ mediaType: "application/vnd.ollama.image.template", digest, size: SECRET.length });
  await mkdir(join(srv.models, ...LIB, "evil"), { recursive: true });
  await writeFile(join(srv.models, ...LIB, "evil", "latest"), JSON.stringify(m));
  await assertNoSecret(await postJson(srv.url, "/api/show", { model: "evil" }), "show");
  await assertNoSecret(await postJson(srv.url, "/api/generate", { model: "evil", prompt: "hi", stream: false }), "generate");
  // A create from the linked blob is refused as if it were not there.
  const create = await postJson(srv.url, "/api/create", { model: "fromlink", files: { "x.gguf": digest }, stream: false });
  assert.equal(create.status, 400);
  assert.equal((await postJson(srv.url, "/api/tags", undefined, "GET")).status, 200);

  // Uploading the real bytes replaces the link with a blob of our own; the outside file is untouched.
  const up = await fetch(`${srv.url}/api/blobs/${digest}`, { method: "POST", body: SECRET });
  assert.equal(up.status, 201);
  assert.ok((await lstat(blob)).isFile());
  assert.equal((await postJson(srv.url, "/api/delete", { model: "evil" }, "DELETE")).status, 200);
  assert.deepEqual(await snapshot(out), before);
});

test("manifests and manifest directories linked outside are not listed, shown, deleted or written", async () => {
  await writeFile(join(out, "manifest.json"), goodManifest);
  await symlink(join(out, "manifest.json"), join(srv.models, ...LIB, "good", "linked"));
  await mkdir(join(out, "ns", "model"), { recursive: true });
  await writeFile(join(out, "ns", "model", "latest"), goodManifest);
  await symlink(join(out, "ns"), join(srv.models, "manifests", "registry.ollama.ai", "outsider"));
  const before = await snapshot(out);

  const tags = await postJson(srv.url, "/api/tags", undefined, "GET");
  assert.deepEqual(tags.json.models.map((m: { name: string }) => m.name), ["good:latest"]);
  for (const model of ["good:linked", "outsider/model"]) {
    assert.equal((await postJson(srv.url, "/api/show", { model })).status, 404, model);
    assert.equal((await postJson(srv.url, "/api/delete", { model }, "DELETE")).status, 404, model);
  }
  const copy = await postJson(srv.url, "/api/copy", { source: "good", destination: "outsider/copy" });
  assert.equal(copy.status, 500);
  assert.match(copy.json.error, /refusing to follow a link out of the models directory/);
  const copied = await postJson(srv.url, "/api/copy", { source: "good", destination: "good:linked" });
  assert.equal(copied.status, 200, "the link is replaced by a manifest of our own");
  assert.ok((await lstat(join(srv.models, ...LIB, "good", "linked"))).isFile());
  assert.deepEqual(await snapshot(out), before);
  assert.equal((await postJson(srv.url, "/api/delete", { model: "good:linked" }, "DELETE")).status, 200);
  assert.equal((await postJson(srv.url, "/api/show", { model: "good" })).status, 200);
});

test("a models directory whose manifests/ and blobs/ are links elsewhere: nothing read, pruned or written there", async () => {
  const models = await mkdtemp(join(tmpdir(), "corral-linked-models-"));
  const elsewhere = join(out, "elsewhere");
  await mkdir(join(elsewhere, "manifests", "registry.ollama.ai", "library", "ghost"), { recursive: true });
  await writeFile(join(elsewhere, "manifests", "registry.ollama.ai", "library", "ghost", "latest"), goodManifest);
  await mkdir(join(elsewhere, "blobs"));
  const stale = join(elsewhere, "blobs", `sha256-${"a".repeat(64)}`);
  await writeFile(stale, "unreferenced and old");
  const old = new Date(Date.now() - 3 * 3600_000);
  await utimes(stale, old, old);
  await symlink(join(elsewhere, "manifests"), join(models, "manifests"));
  await symlink(join(elsewhere, "blobs"), join(models, "blobs"));
  const before = await snapshot(out);

  const linked = await startTestServer({}, { models });
  try {
    assert.deepEqual((await postJson(linked.url, "/api/tags", undefined, "GET")).json, { models: [] });
    assert.equal((await postJson(linked.url, "/api/show", { model: "ghost" })).status, 404);
    assert.equal((await fetch(`${linked.url}/api/blobs/sha256:${"a".repeat(64)}`, { method: "HEAD" })).status, 404);
    const data = Buffer.from("a new blob");
    const up = await fetch(`${linked.url}/api/blobs/sha256:${hex(data)}`, { method: "POST", body: data });
    assert.equal(up.status, 500);
    assert.match(((await up.json()) as { error: string }).error, /refusing to follow a link out of the models directory/);
    assert.equal((await postJson(linked.url, "/api/delete", { model: "ghost" }, "DELETE")).status, 404);
  } finally {
    await linked.stop();
  }
  assert.deepEqual(await snapshot(out), before, "startup prune and the requests left the outside alone");
  await rm(models, { recursive: true, force: true });
});

test("a models directory reached through a link (OLLAMA_MODELS itself a link) works as usual", async () => {
  const real = await mkdtemp(join(tmpdir(), "corral-real-models-"));
  const link = join(out, "models-link");
  await symlink(real, link);
  const linked = await startTestServer({}, { models: link });
  try {
    await createFromGguf(linked.url, "viaLink", STORIES);
    const tags = await postJson(linked.url, "/api/tags", undefined, "GET");
    assert.deepEqual(tags.json.models.map((m: { name: string }) => m.name), ["viaLink:latest"]);
    assert.equal((await postJson(linked.url, "/api/show", { model: "viaLink" })).status, 200);
    assert.equal((await postJson(linked.url, "/api/delete", { model: "viaLink" }, "DELETE")).status, 200);
  } finally {
    await linked.stop();
    await rm(link);
    await rm(real, { recursive: true, force: true });
  }
});

test("a pull replaces links planted where it writes its partial files", { timeout: 120_000 }, async (t) => {
  let registry: TestRegistry;
  try {
    registry = await startRegistry();
  } catch (e) {
    return t.skip(`no registry: ${(e as Error).message}`);
  }
  try {
    const layer = blobOf(1 << 20, 77);
    await seedModel(registry.url, "corral/linky", "latest", [layer]);
    // Outside files that look like a resumable download state: data, and part 0 with nothing done.
    await writeFile(join(out, "victim"), "victim");
    await writeFile(join(out, "victim-0"), JSON.stringify({ N: 0, Offset: 0, Size: layer.length, Completed: 0 }));
    const layerHex = sha256(layer).slice(7);
    await symlink(join(out, "victim"), join(srv.models, "blobs", `sha256-${layerHex}-partial`));
    await symlink(join(out, "victim-0"), join(srv.models, "blobs", `sha256-${layerHex}-partial-0`));
    const before = await snapshot(out);
    const pull = await postJson(srv.url, "/api/pull", { model: `${registry.host}/corral/linky`, insecure: true, stream: false });
    assert.equal(pull.status, 200, pull.text);
    assert.equal(hex(await readFile(join(srv.models, "blobs", `sha256-${layerHex}`))), layerHex);
    assert.deepEqual(await snapshot(out), before);
  } finally {
    await registry.stop();
  }
});
