// Path traversal through pulled manifests ("Probllama", CVE-2024-37032) and through names: a crafted
// manifest served by a real docker-registry must fail the pull, write nothing outside OLLAMA_MODELS and
// leave the store as it was.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readdir, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { blobOf, seedModel, sha256, startRegistry, type TestRegistry } from "./support/registry.js";
import { postJson, startTestServer, type TestServer } from "./support/server.js";

let registry: TestRegistry;
let srv: TestServer;
let good: { configDigest: string; digests: string[] };
// A file name outside every models directory that a traversal would create.
const outside = join(tmpdir(), `corral-probllama-${randomBytes(6).toString("hex")}`);

before(async () => {
  registry = await startRegistry();
  srv = await startTestServer();
  good = await seedModel(registry.url, "sec/good", "v1", [blobOf(2048, 7)]);
});

after(async () => {
  await srv?.stop();
  await registry?.stop();
});

/**
 * Serves `manifest` under repo:tag. docker-registry refuses to accept a manifest whose digests are
 * not valid (as a malicious registry would not), so its bytes go up as a blob over HTTP and the tag
 * is pointed at that blob the way the registry's own storage records a pushed manifest.
 */
async function serveManifest(repo: string, tag: string, manifest: object): Promise<void> {
  const data = Buffer.from(JSON.stringify(manifest));
  const digest = sha256(data);
  const start = await fetch(`${registry.url}/v2/${repo}/blobs/uploads/`, { method: "POST" });
  assert.equal(start.status, 202);
  const loc = new URL(start.headers.get("location")!, registry.url);
  loc.searchParams.set("digest", digest);
  const put = await fetch(loc, { method: "PUT", headers: { "Content-Type": "application/octet-stream" }, body: data });
  assert.equal(put.status, 201);
  const hex = digest.slice("sha256:".length);
  const manifests = join(registry.dir, "data/docker/registry/v2/repositories", repo, "_manifests");
  for (const dir of [join(manifests, "revisions/sha256", hex), join(manifests, "tags", tag, "current")]) {
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, "link"), digest);
  }
  const got = await fetch(`${registry.url}/v2/${repo}/manifests/${tag}`, {
    headers: { Accept: "application/vnd.docker.distribution.manifest.v2+json" },
  });
  assert.equal(got.status, 200, "the registry serves the crafted manifest");
  await got.arrayBuffer();
}

function crafted(layerDigest: string, configDigest = good.configDigest) {
  return {
    schemaVersion: 2,
    mediaType: "application/vnd.docker.distribution.manifest.v2+json",
    config: { mediaType: "application/vnd.docker.container.image.v1+json", digest: configDigest, size: 10 },
    layers: [{ mediaType: "application/vnd.ollama.image.model", digest: layerDigest, size: 2048 }],
  };
}

async function listTree(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    out.push(join(e.parentPath ?? (e as unknown as { path: string }).path, e.name).slice(dir.length));
  }
  return out.sort();
}

const pull = (model: string) => postJson(srv.url, "/api/pull", { model, insecure: true, stream: false });

test("a good pull works, then crafted digests fail the pull without writing anything", async () => {
  const ok = await pull(`${registry.host}/sec/good:v1`);
  assert.equal(ok.status, 200, ok.text);
  const before = await listTree(srv.models);

  const rel = `../../../../../../../../../..${outside}`;
  const bad: [string, object][] = [
    ["traversal", crafted(`sha256:${rel}`)],
    ["dashtraversal", crafted(`sha256-${rel}`)],
    ["short", crafted("sha256:abcd")],
    ["long", crafted(`sha256:${"a".repeat(65)}`)],
    ["suffix", crafted(`sha256:${"a".repeat(64)}/../../x`)],
    ["other-algo", crafted(`sha512:${"a".repeat(128)}`)],
    ["config", crafted(good.digests[0]!, `sha256:${rel}`)],
    ["absolute", crafted(outside)],
  ];
  for (const [tag, manifest] of bad) {
    await serveManifest("sec/evil", tag, manifest);
    const res = await pull(`${registry.host}/sec/evil:${tag}`);
    assert.ok(res.status >= 400, `${tag}: ${res.status} ${res.text}`);
    assert.match(res.json?.error ?? "", /invalid digest/, tag);
    assert.equal(existsSync(outside), false, `${tag} wrote outside the models directory`);
  }
  // Nothing new in the models directory: no manifest, no blob, no partial file.
  assert.deepEqual(await listTree(srv.models), before);
  const tags = await postJson(srv.url, "/api/tags", undefined, "GET");
  assert.deepEqual(tags.json.models.map((m: { name: string }) => m.name), [`${registry.host}/sec/good:v1`]);
});

test("names with '..' or slashes in a part are refused before anything is fetched", async () => {
  const before = await listTree(srv.models);
  for (const name of [
    `${registry.host}/../../evil:v1`,
    `${registry.host}/sec/..:v1`,
    `${registry.host}/sec/good:..`,
    `${registry.host}/sec/.hidden:v1`,
    "../../../etc/passwd",
    `${registry.host}/sec/good:v1/../../x`,
  ]) {
    const res = await pull(name);
    assert.equal(res.status, 400, `${name}: ${res.text}`);
    assert.equal(res.json?.error, "invalid model name", name);
  }
  assert.deepEqual(await listTree(srv.models), before);
});
