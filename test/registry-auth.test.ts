// Registry authentication against real registries: HTTP basic (docker-registry with htpasswd), the
// Bearer token flow (docker-registry with token auth, tokens from a small server here), redirects to
// blob storage on another host without the registry's Authorization, and credentials kept out of logs.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createFromGguf, ndjson, post, postJson, startTestServer, STORIES, type TestServer } from "./support/server.js";
import {
  blobOf,
  seedModel,
  startBlobStorage,
  startProxy,
  startRegistry,
  startTokenServer,
  type CountingProxy,
  type TestRegistry,
  type TokenServer,
} from "./support/registry.js";

const USER = "corral-user";
const PASSWORD = "s3cret-Pa55word-never-logged";
const basic = { Authorization: `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString("base64")}` };

let dir: string;
let basicRegistry: TestRegistry;
let proxy: CountingProxy;
let tokens: TokenServer;
let tokenRegistry: TestRegistry;
let srv: TestServer;
let anonymous: TestServer;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "corral-auth-"));
  basicRegistry = await startRegistry({ htpasswd: { user: USER, password: PASSWORD } });
  proxy = await startProxy(basicRegistry.url);
  tokens = await startTokenServer(USER, PASSWORD);
  tokenRegistry = await startRegistry({ token: tokens.auth });
  const auths: Record<string, { auth: string }> = {};
  for (const host of [basicRegistry.host, proxy.host, `http://${tokenRegistry.host}/v2/`]) {
    auths[host] = { auth: Buffer.from(`${USER}:${PASSWORD}`).toString("base64") };
  }
  await writeFile(join(dir, "auth.json"), JSON.stringify({ auths }));
  srv = await startTestServer({ CORRAL_REGISTRY_AUTH: join(dir, "auth.json"), OLLAMA_DEBUG: "1" });
  anonymous = await startTestServer({ CORRAL_REGISTRY_AUTH: join(dir, "none.json") });
});

after(async () => {
  await srv?.stop();
  await anonymous?.stop();
  await proxy?.close();
  await tokens?.close();
  await basicRegistry?.stop();
  await tokenRegistry?.stop();
  await rm(dir, { recursive: true, force: true });
});

async function roundTrip(server: TestServer, name: string) {
  await createFromGguf(server.url, name, STORIES);
  const manifest = await readFile(join(server.models, "manifests", ...name.replace(/:([^:/]+)$/, "/$1").split("/")));
  const push = await post(server.url, "/api/push", { model: name, insecure: true });
  const pushLines = await ndjson(push);
  assert.equal(pushLines.at(-1).status, "success", JSON.stringify(pushLines.at(-1)));
  assert.equal((await postJson(server.url, "/api/delete", { model: name }, "DELETE")).status, 200);
  const pull = await post(server.url, "/api/pull", { model: name, insecure: true });
  const pullLines = await ndjson(pull);
  assert.equal(pullLines.at(-1).status, "success", JSON.stringify(pullLines.at(-1)));
  const again = await readFile(join(server.models, "manifests", ...name.replace(/:([^:/]+)$/, "/$1").split("/")));
  assert.deepEqual(again, manifest);
  return [...pushLines, ...pullLines];
}

test("HTTP basic auth: without credentials access is denied; with them push and pull work", async () => {
  const name = `${basicRegistry.host}/corral/basic:latest`;
  await createFromGguf(anonymous.url, name, STORIES);
  const denied = await ndjson(await post(anonymous.url, "/api/push", { model: name, insecure: true }));
  assert.deepEqual(denied.at(-1), { error: "unauthorized: access denied" });
  const pull = await postJson(anonymous.url, "/api/pull", { model: name, insecure: true, stream: false });
  assert.deepEqual(pull.json, { error: "pull model manifest: unauthorized: access denied" });

  const lines = await roundTrip(srv, name);
  const text = JSON.stringify(lines) + srv.output();
  assert.ok(!text.includes(PASSWORD), "the password is in no progress line and no log");
  assert.ok(!text.includes(basic.Authorization.slice(6)), "nor its base64 form");
});

test("Bearer token flow: the challenge's realm issues a token for the challenge's scopes", async () => {
  const name = `${tokenRegistry.host}/corral/token:latest`;
  const lines = await roundTrip(srv, name);
  // docker-registry lists a scope's actions in Go map order: "pull,push" or "push,pull".
  const asked = (actions: string) =>
    tokens.requests.some((r) => r.authorized && r.scopes.some((s) => s.startsWith("repository:corral/token:") && s.split(":")[2]!.split(",").sort().join(",") === actions));
  assert.ok(asked("pull,push"), JSON.stringify(tokens.requests.map((r) => r.scopes)));
  assert.ok(asked("pull"), JSON.stringify(tokens.requests.map((r) => r.scopes)));
  const text = JSON.stringify(lines) + srv.output();
  assert.ok(!text.includes(PASSWORD));

  const refused = await postJson(anonymous.url, "/api/pull", { model: name, insecure: true, stream: false });
  assert.equal(refused.status, 500);
  assert.match(refused.json.error, /^pull model manifest: 401: /);
  assert.ok(!refused.json.error.includes(PASSWORD));
});

test("a redirect to blob storage on another host is followed without the registry's Authorization", async () => {
  const blob = blobOf(3 << 20, 7);
  const { digests } = await seedModel(basicRegistry.url, "corral/redirected", "latest", [blob], basic);
  const storage = await startBlobStorage(basicRegistry);
  proxy.redirectBlobsTo = storage.url;
  try {
    const name = `${proxy.host}/corral/redirected`;
    const res = await postJson(srv.url, "/api/pull", { model: name, insecure: true, stream: false });
    assert.deepEqual(res.json, { status: "success" });
    const stored = await readFile(join(srv.models, "blobs", digests[0]!.replace(":", "-")));
    assert.ok(stored.equals(blob));
    assert.ok(storage.requests.length > 0, "blob bytes came from the storage host");
    assert.ok(storage.requests.every((r) => r.authorization === undefined), "no Authorization was sent to it");
    const registryBlobGets = proxy.requests.filter((r) => r.method === "GET" && r.path.includes("/blobs/sha256:"));
    assert.ok(registryBlobGets.some((r) => r.authorization?.startsWith("Basic ")), "the registry itself got credentials");
  } finally {
    proxy.redirectBlobsTo = undefined;
    await storage.close();
  }
});
