// A models directory laid out the way Ollama writes it (registry manifests, a config blob with
// rootfs, a legacy `sha256:` blob name, a model under a registry with a port) works unchanged.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { copyFile, mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { postJson, sha256File, startTestServer, STORIES, type TestServer } from "./support/server.js";

let dir: string;
let srv: TestServer;
let weights: string;

async function blob(data: string): Promise<{ digest: string; size: number }> {
  const hex = createHash("sha256").update(data).digest("hex");
  await writeFile(join(dir, "blobs", `sha256-${hex}`), data);
  return { digest: `sha256:${hex}`, size: Buffer.byteLength(data) };
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "corral-ollama-store-"));
  await mkdir(join(dir, "blobs"));
  weights = await sha256File(STORIES);
  // Older Ollama versions named blobs with a colon; they are renamed at startup.
  await copyFile(STORIES, join(dir, "blobs", `sha256:${weights}`));
  const weightsLayer = { mediaType: "application/vnd.ollama.image.model", digest: `sha256:${weights}`, size: 1185376 };
  const template = await blob("{{ .System }}::{{ .Prompt }}");
  const system = await blob("Be kind.");
  const params = await blob('{"num_predict":4,"stop":["\\u003c/s\\u003e"],"temperature":0}');
  const config = await blob(JSON.stringify({
    model_format: "gguf", model_family: "llama", model_families: ["llama"], model_type: "293K", file_type: "F32",
    architecture: "amd64", os: "linux",
    rootfs: { type: "layers", diff_ids: [`sha256:${weights}`, template.digest, system.digest, params.digest] },
  }));
  const manifest = (layers: unknown[]) =>
    JSON.stringify({
      schemaVersion: 2,
      mediaType: "application/vnd.docker.distribution.manifest.v2+json",
      config: { mediaType: "application/vnd.docker.container.image.v1+json", ...config },
      layers,
    });
  const put = async (path: string[], body: string) => {
    await mkdir(join(dir, "manifests", ...path.slice(0, -1)), { recursive: true });
    await writeFile(join(dir, "manifests", ...path), body);
  };
  await put(["registry.ollama.ai", "library", "tiny", "1b"], manifest([
    weightsLayer,
    { mediaType: "application/vnd.ollama.image.template", ...template },
    { mediaType: "application/vnd.ollama.image.system", ...system },
    { mediaType: "application/vnd.ollama.image.params", ...params },
  ]));
  await put(["127.0.0.1:5000", "team", "tiny", "dev"], manifest([weightsLayer]));
  srv = await startTestServer({}, { models: dir });
});
after(async () => {
  await srv.stop();
  await rm(dir, { recursive: true, force: true });
});

test("Ollama's models are listed with their display names", async () => {
  const { json } = await postJson(srv.url, "/api/tags", undefined, "GET");
  assert.deepEqual(json.models.map((m: { name: string }) => m.name).sort(), ["127.0.0.1:5000/team/tiny:dev", "tiny:1b"]);
  assert.ok((await readdir(join(dir, "blobs"))).includes(`sha256-${weights}`));
});

test("an Ollama model generates with its template, system and parameters", async () => {
  const render = await postJson(srv.url, "/api/generate", { model: "tiny:1b", prompt: "Once upon a time", stream: false, _debug_render_only: true });
  assert.equal(render.json._debug_info.rendered_template, "Be kind.::Once upon a time");
  const gen = await postJson(srv.url, "/api/generate", { model: "TINY:1B", prompt: "Once upon a time", stream: false });
  assert.equal(gen.status, 200);
  assert.equal(gen.json.eval_count, 4);
  const show = await postJson(srv.url, "/api/show", { model: "127.0.0.1:5000/team/tiny:dev" });
  assert.equal(show.status, 200);
  assert.equal(show.json.details.parameter_size, "293K");
  assert.equal(show.json.template, "{{ .Prompt }}");
});

test("deleting one of them keeps the weights the other still uses", async () => {
  assert.equal((await postJson(srv.url, "/api/delete", { model: "tiny:1b" }, "DELETE")).status, 200);
  assert.equal((await fetch(`${srv.url}/api/blobs/sha256:${weights}`, { method: "HEAD" })).status, 200);
  assert.deepEqual(await readdir(join(dir, "manifests")), ["127.0.0.1:5000"]);
});
