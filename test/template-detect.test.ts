// Create-time template detection: a GGUF whose Jinja chat template is a known family gets that family's
// Go TEMPLATE and stop parameters. The families' Go templates must render the shared conformance
// conversations exactly as Ollama's own templates do; the Phi-3 vocabulary GGUF carries a real chat
// template; other families are tried on stories260K with a Jinja template of that family.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { renderPrompt } from "corral";
import { detectTemplateFamily, TEMPLATE_FAMILIES } from "../src/create/template-detect.js";
import { readGguf } from "../src/gguf/reader.js";
import { GgufValueType } from "../src/gguf/types.js";
import { buildRandomLlama } from "../bench/random-model.js";
import { rewriteGguf } from "./support/gguf.js";
import { ndjson, post, postJson, SHARED, startTestServer, STORIES, uploadBlob, type TestServer } from "./support/server.js";

const CONFORMANCE = join(SHARED, "conformance/templates");
const PHI3 = join(SHARED, "models/vocab/ggml-vocab-phi-3.gguf");
// The reference outputs drop one trailing space for these (see the data's README).
const TRAILING_SPACE_QUIRK = new Set(["chatqa", "llama2-chat", "openchat", "vicuna"]);

// Jinja chat templates in the style each family's models ship (written for these tests).
const JINJA: Record<string, string> = {
  "llama3-instruct":
    "{{ bos_token }}{% for m in messages %}{{ '<|start_header_id|>' + m['role'] + '<|end_header_id|>\\n\\n' + m['content'] | trim + '<|eot_id|>' }}{% endfor %}{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{% endif %}",
  "gemma-instruct":
    "{{ bos_token }}{% for m in messages %}{% set role = 'model' if m['role'] == 'assistant' else m['role'] %}{{ '<start_of_turn>' + role + '\\n' + m['content'] | trim + '<end_of_turn>\\n' }}{% endfor %}{% if add_generation_prompt %}{{'<start_of_turn>model\\n'}}{% endif %}",
  "phi-3":
    "{% for m in messages %}{% if m['role'] == 'user' %}{{ '<|user|>\\n' + m['content'] + '<|end|>\\n<|assistant|>\\n' }}{% else %}{{ m['content'] + '<|end|>\\n' }}{% endif %}{% endfor %}",
  zephyr:
    "{% for m in messages %}{% if m['role'] == 'user' %}{{ '<|user|>\\n' + m['content'] + eos_token }}{% elif m['role'] == 'system' %}{{ '<|system|>\\n' + m['content'] + eos_token }}{% else %}{{ '<|assistant|>\\n' + m['content'] + eos_token }}{% endif %}{% if loop.last and add_generation_prompt %}{{ '<|assistant|>' }}{% endif %}{% endfor %}",
  chatml:
    "{% for m in messages %}{{ '<|im_start|>' + m['role'] + '\\n' + m['content'] + '<|im_end|>\\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}",
  openchat:
    "{{ bos_token }}{% for m in messages %}{{ 'GPT4 Correct ' + m['role'].title() + ': ' + m['content'] + '<|end_of_turn|>' }}{% endfor %}{% if add_generation_prompt %}{{ 'GPT4 Correct Assistant:' }}{% endif %}",
  "llama2-chat":
    "{% for m in messages %}{% if m['role'] == 'system' %}{{ '<<SYS>>\\n' + m['content'] + '\\n<</SYS>>\\n\\n' }}{% elif m['role'] == 'user' %}{{ bos_token + '[INST] ' + m['content'] + ' [/INST]' }}{% else %}{{ ' ' + m['content'] + ' ' + eos_token }}{% endif %}{% endfor %}",
  "mistral-instruct":
    "{{ bos_token }}{% for m in messages %}{% if m['role'] == 'user' %}{{ '[INST] ' + m['content'] + ' [/INST]' }}{% else %}{{ m['content'] + eos_token }}{% endif %}{% endfor %}",
  alpaca:
    "{% for m in messages %}{% if m['role'] == 'user' %}{{ '### Instruction:\\n' + m['content'] + '\\n\\n' }}{% else %}{{ '### Response:\\n' + m['content'] + '\\n\\n' }}{% endif %}{% endfor %}{% if add_generation_prompt %}{{ '### Response:\\n' }}{% endif %}",
  "command-r":
    "{{ bos_token }}{% for m in messages %}{{ '<|START_OF_TURN_TOKEN|>' + ('<|CHATBOT_TOKEN|>' if m['role'] == 'assistant' else '<|USER_TOKEN|>') + m['content'] + '<|END_OF_TURN_TOKEN|>' }}{% endfor %}{% if add_generation_prompt %}{{ '<|START_OF_TURN_TOKEN|><|CHATBOT_TOKEN|>' }}{% endif %}",
};

const CHATML_WITH_TOOLS =
  "{% if tools %}<|im_start|>system\n{% for t in tools %}{{ t | tojson }}{% endfor %}<|im_end|>\n{% endif %}" + JINJA.chatml;

describe("the template families table", () => {
  test("every family is detected from a template of its kind, and nothing else is", () => {
    assert.deepEqual(TEMPLATE_FAMILIES.map((f) => f.name).sort(), Object.keys(JINJA).sort());
    for (const [name, jinja] of Object.entries(JINJA)) assert.equal(detectTemplateFamily(jinja)?.name, name, name);
    assert.equal(detectTemplateFamily("{% for m in messages %}{{ m['content'] }}{% endfor %}"), undefined);
    assert.equal(detectTemplateFamily(CHATML_WITH_TOOLS), undefined, "a template that renders tools keeps its own rendering");
    assert.equal(detectTemplateFamily(JINJA.chatml + "{# " + "x".repeat(2000) + " #}"), undefined, "a long template is more than the family's");
  });

  test("every Go template renders the conformance conversations as Ollama's templates do", () => {
    const cases = JSON.parse(readFileSync(join(CONFORMANCE, "cases.json"), "utf8")) as Record<string, { role: string; content: string }[]>;
    let compared = 0;
    for (const f of TEMPLATE_FAMILIES) {
      if (!existsSync(join(CONFORMANCE, "expected", f.name))) continue;
      for (const [caseName, messages] of Object.entries(cases)) {
        let out = renderPrompt(f.template, { messages });
        if (TRAILING_SPACE_QUIRK.has(f.name) && out.endsWith(" ")) out = out.slice(0, -1);
        assert.equal(out, readFileSync(join(CONFORMANCE, "expected", f.name, caseName), "utf8"), `${f.name}/${caseName}`);
        compared++;
      }
    }
    assert.ok(compared >= 15, String(compared));
  });

  test("the others render the turns of their format", () => {
    const messages = [{ role: "system", content: "S" }, { role: "user", content: "U" }, { role: "assistant", content: "A" }, { role: "user", content: "V" }];
    const render = (name: string) => renderPrompt(TEMPLATE_FAMILIES.find((f) => f.name === name)!.template, { messages });
    assert.equal(render("llama3-instruct"), "<|start_header_id|>system<|end_header_id|>\n\nS<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nU<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\nA<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nV<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n");
    assert.equal(render("phi-3"), "<|system|>\nS<|end|>\n<|user|>\nU<|end|>\n<|assistant|>\nA<|end|>\n<|user|>\nV<|end|>\n<|assistant|>\n");
    assert.equal(render("zephyr"), "<|system|>\nS</s>\n<|user|>\nU</s>\n<|assistant|>\nA</s>\n<|user|>\nV</s>\n<|assistant|>\n");
    assert.equal(render("mistral-instruct"), "[INST] S\n\nU[/INST] A</s>[INST] V[/INST]");
    assert.equal(render("command-r"), "<|START_OF_TURN_TOKEN|><|SYSTEM_TOKEN|>S<|END_OF_TURN_TOKEN|><|START_OF_TURN_TOKEN|><|USER_TOKEN|>U<|END_OF_TURN_TOKEN|><|START_OF_TURN_TOKEN|><|CHATBOT_TOKEN|>A<|END_OF_TURN_TOKEN|><|START_OF_TURN_TOKEN|><|USER_TOKEN|>V<|END_OF_TURN_TOKEN|><|START_OF_TURN_TOKEN|><|CHATBOT_TOKEN|>");
  });
});

describe("create detects the chat template", () => {
  let srv: TestServer;
  let tmp: string;
  const withTemplate = async (name: string, jinja: string) => {
    const path = join(tmp, `${name}.gguf`);
    await rewriteGguf(STORIES, path, (md) => md.set("tokenizer.chat_template", { type: GgufValueType.STRING, value: jinja }));
    return path;
  };
  const createStatuses = async (body: Record<string, unknown>) => {
    const res = await post(srv.url, "/api/create", body);
    assert.equal(res.status, 200);
    return (await ndjson(res)).map((l) => l.status as string);
  };
  const show = async (model: string) => (await postJson(srv.url, "/api/show", { model })).json;
  const rendered = async (model: string) => {
    const res = await postJson(srv.url, "/api/chat", { model, stream: false, _debug_render_only: true, messages: [{ role: "user", content: "Hello" }] });
    assert.equal(res.status, 200, res.text);
    return res.json._debug_info.rendered_template as string;
  };

  before(async () => {
    srv = await startTestServer();
    tmp = await mkdtemp(join(tmpdir(), "corral-detect-"));
  });
  after(async () => {
    await srv.stop();
    await rm(tmp, { recursive: true, force: true });
  });

  test("the Phi-3 GGUF's own chat template becomes the phi-3 TEMPLATE with its stop tokens", async () => {
    // A loadable model with the Phi-3 vocabulary and the chat template that GGUF carries.
    const raw = join(tmp, "phi3-random.gguf");
    await buildRandomLlama(raw, { dim: 64, layers: 1, heads: 2, kvHeads: 2, ffn: 128, contextLength: 512, weightType: "F32", seed: 7, vocabFile: PHI3 });
    const jinja = (await readGguf(PHI3)).metadata.get("tokenizer.chat_template")!;
    assert.match(String(jinja.value), /<\|user\|>/);
    const phi = join(tmp, "phi3.gguf");
    await rewriteGguf(raw, phi, (md) => md.set("tokenizer.chat_template", jinja));
    const statuses = await createStatuses({ model: "phi", files: { "phi.gguf": await uploadBlob(srv.url, phi) } });
    assert.ok(statuses.includes("using autodetected template phi-3"), statuses.join("\n"));
    assert.deepEqual(statuses.slice(-2), ["writing manifest", "success"]);
    const info = await show("phi");
    assert.equal(info.template, TEMPLATE_FAMILIES.find((f) => f.name === "phi-3")!.template);
    assert.match(info.parameters, /^stop\s+"<\|end\|>"$/m);
    assert.match(info.parameters, /^stop\s+"<\|assistant\|>"$/m);
    assert.equal(await rendered("phi"), "<|user|>\nHello<|end|>\n<|assistant|>\n");
  });

  test("a chatml GGUF gets chatml; request parameters win over the detected ones", async () => {
    const digest = await uploadBlob(srv.url, await withTemplate("chatml", JINJA.chatml));
    const statuses = await createStatuses({ model: "cml", files: { "model.gguf": digest }, parameters: { stop: ["END"], temperature: 0.5 } });
    assert.ok(statuses.includes("using autodetected template chatml"), statuses.join("\n"));
    const info = await show("cml");
    assert.equal(info.template, TEMPLATE_FAMILIES.find((f) => f.name === "chatml")!.template);
    assert.match(info.parameters, /^stop\s+"END"$/m);
    assert.doesNotMatch(info.parameters, /im_end/);
    assert.equal(await rendered("cml"), "<|im_start|>user\nHello<|im_end|>\n<|im_start|>assistant\n");
    // The model generates with it.
    const gen = await postJson(srv.url, "/api/chat", { model: "cml", stream: false, messages: [{ role: "user", content: "Once upon a time" }], options: { num_predict: 4 } });
    assert.equal(gen.status, 200, gen.text);
  });

  test("no detection for a given TEMPLATE, a template with tools, an unknown one, or a model made from a model", async () => {
    const own = await createStatuses({ model: "own", files: { "model.gguf": await uploadBlob(srv.url, await withTemplate("chatml2", JINJA.chatml)) }, template: "{{ .Prompt }}" });
    assert.ok(!own.some((s) => s.startsWith("using autodetected template")), own.join("\n"));
    assert.equal((await show("own")).template, "{{ .Prompt }}");

    const tools = await createStatuses({ model: "tools", files: { "model.gguf": await uploadBlob(srv.url, await withTemplate("tools", CHATML_WITH_TOOLS)) } });
    assert.ok(!tools.some((s) => s.startsWith("using autodetected template")), tools.join("\n"));
    assert.ok((await show("tools")).capabilities.includes("tools"), "its own Jinja template renders the tools");

    const derived = await createStatuses({ model: "derived", from: "cml", system: "Be brief." });
    assert.ok(!derived.some((s) => s.startsWith("using autodetected template")), derived.join("\n"));
    assert.equal((await show("derived")).template, (await show("cml")).template, "the base's TEMPLATE is inherited");
  });
});
