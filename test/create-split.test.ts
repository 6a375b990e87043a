// Split GGUFs (llama.cpp's gguf-split layout) in /api/create: stories260K is cut into parts here, the
// parts are created from as uploaded files, from a Modelfile naming their directory or the first part,
// and the merged model must generate exactly what the unsplit one does.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { readGguf } from "../src/gguf/reader.js";
import { splitGguf } from "../src/gguf/split.js";
import { runCli } from "./support/cli.js";
import { createFromGguf, ndjson, post, postJson, startTestServer, STORIES, uploadBlob, type TestServer } from "./support/server.js";

const greedy = { temperature: 0, num_predict: 24 };

describe("create from split GGUFs", () => {
  let srv: TestServer;
  let tmp: string;
  let parts: string[];
  let reference: string;
  const generate = async (model: string) => {
    const r = await postJson(srv.url, "/api/generate", { model, prompt: "Once upon a time", stream: false, options: greedy });
    assert.equal(r.status, 200, r.text);
    return r.json.response as string;
  };
  const upload = async (paths: string[]) => Object.fromEntries(await Promise.all(paths.map(async (p) => [basename(p), await uploadBlob(srv.url, p)])));

  before(async () => {
    srv = await startTestServer();
    tmp = await mkdtemp(join(tmpdir(), "corral-split-"));
    await mkdir(join(tmp, "parts"));
    parts = await splitGguf(STORIES, join(tmp, "parts", "stories"), 3);
    await createFromGguf(srv.url, "whole", STORIES);
    reference = await generate("whole");
  });
  after(async () => {
    await srv.stop();
    await rm(tmp, { recursive: true, force: true });
  });

  test("the parts are gguf-split's layout", async () => {
    assert.deepEqual(parts.map((p) => basename(p)), ["stories-00001-of-00003.gguf", "stories-00002-of-00003.gguf", "stories-00003-of-00003.gguf"]);
    const [first, second] = await Promise.all(parts.slice(0, 2).map((p) => readGguf(p)));
    const whole = await readGguf(STORIES);
    assert.equal(first!.metadata.get("split.count")?.value, 3);
    assert.equal(second!.metadata.get("split.no")?.value, 1);
    assert.equal(first!.metadata.get("split.tensors.count")?.value, whole.tensors.length);
    assert.equal(second!.metadata.has("general.architecture"), false);
    assert.ok(first!.tensors.length < whole.tensors.length);
  });

  test("uploaded parts merge into one model layer that generates as the whole file does", async () => {
    assert.ok(reference.length > 20, reference);
    const files = await upload([...parts].reverse()); // order of the files does not matter
    const res = await post(srv.url, "/api/create", { model: "split-files", files });
    assert.equal(res.status, 200);
    const statuses = (await ndjson(res)).map((l) => l.status as string);
    assert.ok(statuses.includes("merging split GGUF"), statuses.join("\n"));
    assert.equal(statuses.at(-1), "success");

    const show = await postJson(srv.url, "/api/show", { model: "split-files", verbose: true });
    assert.equal(show.status, 200, show.text);
    assert.equal(show.json.details.family, "llama");
    assert.equal(show.json.model_info["split.count"], undefined, "the merged layer carries no split keys");
    const manifest = await readFile(join(srv.models, "manifests/registry.ollama.ai/library/split-files/latest"), "utf8");
    const modelLayers = JSON.parse(manifest).layers.filter((l: { mediaType: string }) => l.mediaType === "application/vnd.ollama.image.model");
    assert.equal(modelLayers.length, 1);
    assert.ok(!Object.values(files).includes(modelLayers[0].digest));
    assert.equal(await generate("split-files"), reference);
  });

  test("a split model quantizes like a whole one", async () => {
    const res = await postJson(srv.url, "/api/create", { model: "split-q8", files: await upload(parts), quantize: "q8_0", stream: false });
    assert.equal(res.status, 200, res.text);
    const whole = await postJson(srv.url, "/api/create", { model: "whole-q8", from: "whole", quantize: "q8_0", stream: false });
    assert.equal(whole.status, 200, whole.text);
    assert.equal((await postJson(srv.url, "/api/show", { model: "split-q8" })).json.details.quantization_level, "Q8_0");
    assert.equal(await generate("split-q8"), await generate("whole-q8"));
  });

  test("a Modelfile FROM the parts' directory or the first part creates the same model", async () => {
    const dirModelfile = join(tmp, "Modelfile.dir");
    await writeFile(dirModelfile, "FROM ./parts\n");
    const byDir = await runCli(srv.url, ["create", "split-dir", "-f", dirModelfile]);
    assert.equal(byDir.code, 0, byDir.stderr);
    assert.equal(await generate("split-dir"), reference);

    const firstModelfile = join(tmp, "Modelfile.first");
    await writeFile(firstModelfile, `FROM ./parts/${basename(parts[0]!)}\nPARAMETER num_predict 24\n`);
    const byFirst = await runCli(srv.url, ["create", "split-first", "-f", firstModelfile]);
    assert.equal(byFirst.code, 0, byFirst.stderr);
    assert.equal(await generate("split-first"), reference);

    const digest = async (model: string) => (await postJson(srv.url, "/api/show", { model })).json.modelfile.match(/^FROM (.*)$/m)[1];
    assert.equal(await digest("split-dir"), await digest("split-first"));
  });

  test("a missing part is a 400 that names it, and nothing is created", async () => {
    const files = await upload([parts[0]!, parts[2]!]);
    const res = await postJson(srv.url, "/api/create", { model: "split-missing", files });
    assert.equal(res.status, 400);
    assert.match(res.json.error, /missing shard 2 of 3/);
    assert.match(res.json.error, /stories-00002-of-00003\.gguf/);
    assert.equal((await postJson(srv.url, "/api/show", { model: "split-missing" })).status, 404);

    // The CLI names it too when the first part's siblings are not all there.
    const partial = join(tmp, "partial");
    await mkdir(partial);
    for (const i of [0, 2]) await copyFile(parts[i]!, join(partial, basename(parts[i]!)));
    await writeFile(join(partial, "Modelfile"), `FROM ./${basename(parts[0]!)}\n`);
    const r = await runCli(srv.url, ["create", "split-partial", "-f", join(partial, "Modelfile")]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /missing shard 2 of 3/);
  });

  test("a part whose name disagrees with its metadata is refused", async () => {
    const files = await upload(parts);
    const renamed = { ...files, "stories-00003-of-00003.gguf": files["stories-00002-of-00003.gguf"], "stories-00002-of-00003.gguf": files["stories-00003-of-00003.gguf"] };
    const res = await postJson(srv.url, "/api/create", { model: "split-swapped", files: renamed });
    assert.equal(res.status, 400);
    assert.match(res.json.error, /filename index \d does not match metadata index \d/);
    const unnamed = await postJson(srv.url, "/api/create", { model: "split-unnamed", files: { "model.gguf": files["stories-00001-of-00003.gguf"] } });
    assert.equal(unnamed.status, 400);
    assert.match(unnamed.json.error, /must use llama\.cpp split filename pattern/);
  });
});
