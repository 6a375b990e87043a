// Blobs, create, list, show, copy and delete over HTTP against a real models directory.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { readdir, readFile, stat, writeFile, mkdtemp } from "node:fs/promises";
import { createHash } from "node:crypto";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { ndjson, post, postJson, startTestServer, STORIES, uploadBlob, type TestServer } from "./support/server.js";

let srv: TestServer;
let storiesDigest: string;
before(async () => {
  srv = await startTestServer();
  storiesDigest = await uploadBlob(srv.url, STORIES);
});
after(() => srv.stop());

async function listTree(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string) => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else out.push(relative(dir, p));
    }
  };
  await walk(dir);
  return out.sort();
}

const sha = (b: Buffer | string) => createHash("sha256").update(b).digest("hex");

test("blob upload verifies the digest, is idempotent, and HEAD reports presence", async () => {
  const data = Buffer.from("hello blob");
  const digest = `sha256:${sha(data)}`;
  assert.equal((await fetch(`${srv.url}/api/blobs/${digest}`, { method: "HEAD" })).status, 404);
  const created = await fetch(`${srv.url}/api/blobs/${digest}`, { method: "POST", body: data });
  assert.equal(created.status, 201);
  assert.equal((await fetch(`${srv.url}/api/blobs/${digest}`, { method: "HEAD" })).status, 200);
  assert.equal((await fetch(`${srv.url}/api/blobs/${digest}`, { method: "POST", body: data })).status, 200);
  assert.deepEqual(await readFile(join(srv.models, "blobs", `sha256-${sha(data)}`)), data);
});

test("a blob whose bytes do not match its digest is refused and leaves nothing behind", async () => {
  const before = await listTree(srv.models);
  const claimed = `sha256:${"ab".repeat(32)}`;
  const res = await fetch(`${srv.url}/api/blobs/${claimed}`, { method: "POST", body: Buffer.from("other bytes") });
  assert.equal(res.status, 400);
  assert.deepEqual(await res.json(), {
    error: `digest mismatch, expected "${claimed}", got "sha256:${sha("other bytes")}"`,
  });
  assert.deepEqual(await listTree(srv.models), before);
});

test("malformed digests are a 400 and never touch the filesystem", async () => {
  for (const bad of ["sha256:abc", "md5:" + "a".repeat(64), "sha256-..%2F..%2Fetc", "..%2F..%2Fx"]) {
    const res = await fetch(`${srv.url}/api/blobs/${bad}`, { method: "POST", body: "x" });
    assert.equal(res.status, 400, bad);
    assert.deepEqual(await res.json(), { error: "invalid digest format" });
  }
});

test("create from a GGUF blob streams Ollama's statuses and writes a readable manifest", async () => {
  const res = await post(srv.url, "/api/create", { model: "stories", files: { "stories260K.gguf": storiesDigest } });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("content-type"), "application/x-ndjson");
  const lines = await ndjson(res);
  assert.deepEqual(lines.map((l) => l.status), [
    "parsing GGUF",
    `using existing layer ${storiesDigest}`,
    "writing manifest",
    "success",
  ]);
  const manifestPath = join(srv.models, "manifests/registry.ollama.ai/library/stories/latest");
  const manifest = JSON.parse(await readFile(manifestPath, "utf8"));
  assert.equal(manifest.schemaVersion, 2);
  assert.equal(manifest.mediaType, "application/vnd.docker.distribution.manifest.v2+json");
  assert.deepEqual(manifest.layers, [
    { mediaType: "application/vnd.ollama.image.model", digest: storiesDigest, size: (await stat(STORIES)).size },
  ]);
  const config = JSON.parse(await readFile(join(srv.models, "blobs", manifest.config.digest.replace(":", "-")), "utf8"));
  assert.deepEqual(config, {
    model_format: "gguf",
    model_family: "llama",
    model_families: ["llama"],
    model_type: "293K",
    file_type: "F32",
    architecture: "amd64",
    os: "linux",
  });
  assert.equal(manifest.config.size, Buffer.byteLength(JSON.stringify(config) + "\n"));
});

test("create with template, system, parameters, messages and license; show reflects all of it", async () => {
  const res = await postJson(srv.url, "/api/create", {
    model: "Story-Teller:v1",
    files: { "stories260K.gguf": storiesDigest },
    template: "{{ .System }} {{ .Prompt }}",
    system: "You tell stories.",
    parameters: { temperature: 0.7, stop: ["<end>", "\n\n"], num_ctx: 512 },
    messages: [
      { role: "user", content: "Hi" },
      { role: "assistant", content: "Once upon a time" },
    ],
    license: ["MIT license text", "second license"],
    stream: false,
  });
  assert.deepEqual([res.status, res.json], [200, { status: "success" }]);

  // Lookup is case-insensitive; the stored spelling is kept.
  const show = await postJson(srv.url, "/api/show", { model: "story-teller:V1" });
  assert.equal(show.status, 200);
  const s = show.json;
  assert.equal(s.template, "{{ .System }} {{ .Prompt }}");
  assert.equal(s.system, "You tell stories.");
  assert.equal(s.license, "MIT license text\nsecond license");
  assert.deepEqual(s.messages, [
    { role: "user", content: "Hi" },
    { role: "assistant", content: "Once upon a time" },
  ]);
  assert.deepEqual(s.details, {
    parent_model: "",
    format: "gguf",
    family: "llama",
    families: ["llama"],
    parameter_size: "293K",
    quantization_level: "F32",
  });
  assert.deepEqual(s.parameters.split("\n").sort(), [
    `num_ctx                        512`,
    `stop                           "<end>"`,
    `stop                           "\\n\\n"`,
    `temperature                    0.7`,
  ]);
  assert.equal(s.model_info["general.architecture"], "llama");
  assert.equal(s.model_info["general.parameter_count"], 292800);
  assert.equal(s.model_info["llama.context_length"], 2048);
  assert.equal(s.model_info["tokenizer.ggml.tokens"], null);
  assert.equal("general.name" in s.model_info, false);
  assert.equal(s.tensors.length, 48);
  assert.deepEqual(s.tensors.find((t: { name: string }) => t.name === "token_embd.weight"), {
    name: "token_embd.weight",
    type: "F32",
    shape: [64, 512],
  });
  assert.deepEqual(s.capabilities, ["completion"]);
  assert.match(s.modified_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d/);
  const mf: string = s.modelfile;
  assert.ok(mf.startsWith('# Modelfile generated by "ollama show"\n'), mf);
  assert.match(mf, /# FROM Story-Teller:v1\n/);
  assert.match(mf, new RegExp(`\\nFROM ${join(srv.models, "blobs", storiesDigest.replace(":", "-"))}\\n`));
  assert.match(mf, /\nTEMPLATE \{\{ \.System \}\} \{\{ \.Prompt \}\}\n/);
  assert.match(mf, /\nSYSTEM You tell stories\.\n/);
  assert.match(mf, /\nPARAMETER stop <end>\n/);
  assert.match(mf, /\nPARAMETER stop "\n\n"\n/);
  assert.match(mf, /\nPARAMETER temperature 0\.7\n/);
  assert.match(mf, /\nLICENSE MIT license text\n/);
  assert.match(mf, /\nMESSAGE assistant Once upon a time\n/);

  const verbose = await postJson(srv.url, "/api/show", { model: "Story-Teller:v1", verbose: true });
  assert.equal(verbose.json.model_info["tokenizer.ggml.tokens"].length, 512);
});

test("tags lists models newest first with sizes, digests and details", async () => {
  const { status, json } = await postJson(srv.url, "/api/tags", undefined, "GET");
  assert.equal(status, 200);
  const names = json.models.map((m: { name: string }) => m.name);
  assert.deepEqual(names.slice(0, 2), ["Story-Teller:v1", "stories:latest"]);
  for (const m of json.models) {
    const raw = await readFile(join(srv.models, "manifests/registry.ollama.ai/library", ...m.name.split(":")));
    assert.equal(m.digest, sha(raw));
    const manifest = JSON.parse(raw.toString());
    const size = manifest.layers.reduce((n: number, l: { size: number }) => n + l.size, manifest.config.size);
    assert.equal(m.size, size);
    assert.equal(m.model, m.name);
    assert.equal(m.details.family, "llama");
  }
});

test("copy duplicates the manifest byte for byte; delete prunes only unreferenced blobs", async () => {
  assert.equal((await post(srv.url, "/api/copy", { source: "stories", destination: "me/stories-copy:tag" })).status, 200);
  const src = await readFile(join(srv.models, "manifests/registry.ollama.ai/library/stories/latest"));
  const dst = await readFile(join(srv.models, "manifests/registry.ollama.ai/me/stories-copy/tag"));
  assert.deepEqual(dst, src);

  const del = await post(srv.url, "/api/delete", { model: "stories" }, "DELETE");
  assert.equal(del.status, 200);
  assert.equal(await del.text(), "");
  // The weights are still used by the copy and by Story-Teller.
  assert.equal((await fetch(`${srv.url}/api/blobs/${storiesDigest}`, { method: "HEAD" })).status, 200);

  const second = await postJson(srv.url, "/api/delete", { model: "stories" }, "DELETE");
  assert.deepEqual([second.status, second.json], [404, { error: "model 'stories' not found" }]);

  // Deleting Story-Teller removes its own template/system/params/license layers but keeps the weights.
  const show = await postJson(srv.url, "/api/show", { model: "Story-Teller:v1", verbose: false });
  const manifest = JSON.parse(await readFile(join(srv.models, "manifests/registry.ollama.ai/library/Story-Teller/v1"), "utf8"));
  const own = manifest.layers.filter((l: { mediaType: string }) => !l.mediaType.endsWith(".model"));
  assert.equal(show.status, 200);
  assert.equal((await post(srv.url, "/api/delete", { name: "story-teller:v1" }, "DELETE")).status, 200);
  for (const l of own) {
    assert.equal((await fetch(`${srv.url}/api/blobs/${l.digest}`, { method: "HEAD" })).status, 404, l.mediaType);
  }
  assert.equal((await fetch(`${srv.url}/api/blobs/${storiesDigest}`, { method: "HEAD" })).status, 200);
  // The manifests directory keeps no empty folders of deleted models.
  assert.deepEqual(await readdir(join(srv.models, "manifests/registry.ollama.ai")), ["me"]);

  assert.equal((await post(srv.url, "/api/delete", { model: "me/stories-copy:tag" }, "DELETE")).status, 200);
  assert.equal((await fetch(`${srv.url}/api/blobs/${storiesDigest}`, { method: "HEAD" })).status, 404);
});

test("invalid names, path tricks and missing models get Ollama's errors and write nothing", async () => {
  const before = await listTree(srv.models);
  const bad = ["../evil", "/etc/passwd", "a/b/c/d", "host:5000/model", "model:", ":tag", "x/../../y", "ns.with.dot/m", "a b"];
  for (const name of bad) {
    const create = await postJson(srv.url, "/api/create", { model: name, files: { "m.gguf": storiesDigest }, stream: false });
    assert.deepEqual([create.status, create.json], [400, { error: "invalid model name" }], name);
    const show = await postJson(srv.url, "/api/show", { model: name });
    assert.deepEqual([show.status, show.json], [400, { error: "invalid model name" }], name);
    const gen = await postJson(srv.url, "/api/generate", { model: name, prompt: "hi" });
    assert.deepEqual([gen.status, gen.json], [400, { error: "invalid model name" }], name);
    const cp = await postJson(srv.url, "/api/copy", { source: "whatever", destination: name });
    assert.equal(cp.status, 400, name);
    const del = await postJson(srv.url, "/api/delete", { model: name }, "DELETE");
    assert.deepEqual([del.status, del.json], [400, { error: `name "${name}" is invalid` }], name);
  }
  const files = await postJson(srv.url, "/api/create", { model: "ok", files: { "../../escape.gguf": storiesDigest } });
  assert.deepEqual([files.status, files.json], [400, { error: "file path must be relative" }]);
  const abs = await postJson(srv.url, "/api/create", { model: "ok", files: { "/abs.gguf": storiesDigest } });
  assert.deepEqual([abs.status, abs.json], [400, { error: "file path must be relative" }]);
  const digest = await postJson(srv.url, "/api/create", { model: "ok", files: { "m.gguf": "" } });
  assert.deepEqual([digest.status, digest.json], [400, { error: "invalid digest format" }]);
  const neither = await postJson(srv.url, "/api/create", { model: "ok" });
  assert.deepEqual([neither.status, neither.json], [400, { error: "neither 'from' or 'files' was specified" }]);

  assert.deepEqual((await postJson(srv.url, "/api/show", {})).json, { error: "model is required" });
  assert.deepEqual((await postJson(srv.url, "/api/show", { model: "nope" })).json, { error: "model 'nope:latest' not found" });
  assert.deepEqual((await postJson(srv.url, "/api/copy", { source: "nope", destination: "x" })).json, {
    error: 'model "nope" not found',
  });
  assert.deepEqual(await listTree(srv.models), before);
});

test("create refuses a blob that is not GGUF, or truncated, and writes no manifest", async () => {
  const dir = await mkdtemp(join(tmpdir(), "corral-bad-"));
  const notGguf = join(dir, "notes.gguf");
  await writeFile(notGguf, "this is not a model");
  const truncated = join(dir, "truncated.gguf");
  await writeFile(truncated, (await readFile(STORIES)).subarray(0, 4000));
  for (const path of [notGguf, truncated]) {
    const digest = await uploadBlob(srv.url, path);
    const res = await postJson(srv.url, "/api/create", { model: "broken", files: { "model.gguf": digest } });
    assert.equal(res.status, 400, path);
    assert.match(res.json.error, /^supplied file was not in GGUF format/);
  }
  const missing = await postJson(srv.url, "/api/create", { model: "broken", files: { "model.gguf": `sha256:${"0".repeat(64)}` } });
  assert.equal(missing.status, 400);
  assert.match(missing.json.error, /not found/);
  assert.equal((await postJson(srv.url, "/api/show", { model: "broken" })).status, 404);
});

test("create from an existing model reuses its layers and merges parameters", async () => {
  // The delete test above pruned the weights; upload them again.
  storiesDigest = await uploadBlob(srv.url, STORIES);
  await postJson(srv.url, "/api/create", {
    model: "base", files: { "m.gguf": storiesDigest }, parameters: { temperature: 0.5, top_k: 10 }, system: "base system", stream: false,
  });
  const res = await post(srv.url, "/api/create", { model: "derived", from: "base", parameters: { top_k: 20 }, system: "new system" });
  const statuses = (await ndjson(res)).map((l) => l.status);
  assert.ok(statuses.includes(`using existing layer ${storiesDigest}`), statuses.join("|"));
  assert.equal(statuses.at(-1), "success");
  const show = (await postJson(srv.url, "/api/show", { model: "derived" })).json;
  assert.equal(show.system, "new system");
  assert.equal(show.details.parent_model, "base:latest");
  assert.deepEqual(show.parameters.split("\n").sort(), ["temperature                    0.5", "top_k                          20"]);
  // A missing base is pulled first; this registry address is closed, so the pull fails on loopback.
  const missing = await postJson(srv.url, "/api/create", { model: "d2", from: "127.0.0.1:1/x/no-such-model", stream: false });
  assert.equal(missing.status, 404);
});
