// Modelfile round trip: /api/show's modelfile, parsed back (create/modelfile.ts) into a create
// request, gives the same model again: the same blobs, template, system, parameters, licenses and
// messages. Plus the Modelfile faults a user meets first.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { modelfileRequest, parseModelfile, type PathResolver } from "../src/create/modelfile.js";
import { createFromGguf, postJson, sha256File, startTestServer, STORIES, uploadBlob, type TestServer } from "./support/server.js";
import { randomPairs, writeLoraGguf } from "./support/lora-adapter.js";

// As the CLI does: an existing path is uploaded content (already a blob here), anything else a model name.
const resolve: PathResolver = async (_instruction, arg) =>
  existsSync(arg) ? { [basename(arg)]: `sha256:${await sha256File(arg)}` } : undefined;

describe("Modelfile round trip", () => {
  let srv: TestServer;
  let tmp: string;
  const show = async (model: string) => {
    const r = await postJson(srv.url, "/api/show", { model });
    assert.equal(r.status, 200, r.text);
    return r.json;
  };
  /** The model as its Modelfile tells it, without the header comments that name it. */
  const body = (mf: string) => mf.split("\n").filter((l) => !l.startsWith("#")).join("\n");
  const roundTrip = async (model: string, copy: string) => {
    const mf = (await show(model)).modelfile as string;
    const req = await modelfileRequest(parseModelfile(mf), resolve);
    const r = await postJson(srv.url, "/api/create", { model: copy, stream: false, ...req });
    assert.equal(r.status, 200, r.text);
    const [a, b] = [await show(model), await show(copy)];
    assert.equal(body(b.modelfile), body(a.modelfile));
    for (const k of ["template", "system", "parameters", "license", "messages"]) assert.deepEqual(b[k], a[k], k);
    // Made from the blob rather than from a model name, the copy has no parent model.
    assert.deepEqual({ ...b.details, parent_model: "" }, { ...a.details, parent_model: "" });
  };

  before(async () => {
    srv = await startTestServer();
    tmp = await mkdtemp(join(tmpdir(), "corral-mf-"));
    await createFromGguf(srv.url, "stories", STORIES);
  });
  after(async () => {
    await srv.stop();
    await rm(tmp, { recursive: true, force: true });
  });

  test("template, system, parameters, licenses, messages and an adapter come back the same", async () => {
    const lora = join(tmp, "lora.gguf");
    await writeLoraGguf(lora, randomPairs(4, 21), 4, 4);
    const r = await postJson(srv.url, "/api/create", {
      model: "full", from: "stories", stream: false,
      adapters: { "lora.gguf": await uploadBlob(srv.url, lora) },
      template: "{{ if .System }}<<{{ .System }}>>\n{{ end }}{{ .Prompt }}",
      system: ' You are "terse".\nVery.',
      parameters: { temperature: 0.7, num_ctx: 256, stop: ["<|end|>", "User:"], top_k: 20 },
      license: ["MIT", "line one\nline two"],
      messages: [{ role: "user", content: "Is it?" }, { role: "assistant", content: " yes " }],
    });
    assert.equal(r.status, 200, r.text);
    await roundTrip("full", "full-copy");
  });

  test("a quantized model comes back the same", async () => {
    const r = await postJson(srv.url, "/api/create", { model: "q8", from: "stories", quantize: "q8_0", stream: false, system: "short" });
    assert.equal(r.status, 200, r.text);
    await roundTrip("q8", "q8-copy");
  });

  test("Modelfile faults: unknown command, bad parameter value, FROM a missing file", async () => {
    assert.throws(() => parseModelfile("FROM x\nFOO bar\n"), /\(line 2\): command must be one of "from", "license"/);
    await assert.rejects(modelfileRequest(parseModelfile("FROM x\nPARAMETER temperature hot\n"), resolve), /\(line 2\): invalid float value \[hot\]/);
    const req = await modelfileRequest(parseModelfile(`FROM ${join(tmp, "missing.gguf")}\n`), resolve);
    const r = await postJson(srv.url, "/api/create", { model: "missing", stream: false, ...req });
    assert.equal(r.status, 400);
    assert.equal(r.json.error, "invalid model name");
  });
});
