// The `corral` binary against a real server and a real model, as a script would use it: stdout
// and stderr are pipes, so no colours, spinners or escape codes may appear. Tables, show, create
// from a Modelfile, run with a prompt and with piped stdin, stop / cp / rm, and the errors.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { copyFile, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GgufValueType } from "../src/gguf/types.js";
import { VERSION } from "../src/version.js";
import { runCli, type CliResult } from "./support/cli.js";
import { rewriteGguf } from "./support/gguf.js";
import { buildVisionLlama } from "./support/vision.js";
import { createFromGguf, freePort, postJson, sha256File, SHARED, startTestServer, STORIES, type TestServer } from "./support/server.js";

let srv: TestServer;
let host: string;
let work: string;

before(async () => {
  srv = await startTestServer();
  host = `127.0.0.1:${srv.port}`;
  work = await mkdtemp(join(tmpdir(), "corral-cli-"));
  // Greedy and short: every generation here is a dozen tokens of the same story.
  await createFromGguf(srv.url, "stories", STORIES, { parameters: { num_predict: 12, temperature: 0 } });
});
after(async () => {
  await srv.stop();
  await rm(work, { recursive: true, force: true });
});

const cli = (args: string[], opts: { input?: string; cwd?: string } = {}) =>
  runCli(host, args, { ...opts, env: { HOME: work } });

/** A successful run: exit 0 and nothing a terminal would interpret in either stream. */
function ok(r: CliResult): CliResult {
  assert.equal(r.code, 0, `exit ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  assert.ok(!r.stdout.includes("\x1b") && !r.stderr.includes("\x1b"), JSON.stringify(r));
  return r;
}

/**
 * A failed run: exit 1, and stderr ends with one `Error: ...` line; with `progress`, status lines
 * printed before the fault may precede it.
 */
function fails(r: CliResult, message: string | RegExp, opts: { progress?: boolean } = {}): void {
  assert.equal(r.code, 1, JSON.stringify(r));
  assert.ok(!r.stderr.includes("\x1b") && !r.stdout.includes("\x1b"), JSON.stringify(r));
  const lines = r.stderr.split("\n").filter(Boolean);
  if (!opts.progress) assert.equal(lines.length, 1, r.stderr);
  const last = `${lines.at(-1)}\n`;
  if (typeof message === "string") assert.equal(last, `Error: ${message}\n`);
  else assert.match(last, message);
  assert.ok(lines.slice(0, -1).every((l) => !l.startsWith("Error") && !/^\s+at /.test(l)), r.stderr);
}

const STORY = ", there was a little girl named Lily. She";
const PROJECTOR = join(SHARED, "models/multimodal/mmproj-tinygemma3.gguf");
/** A 1x1 red PNG. */
const RED_DOT_PNG = Buffer.from(
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4z8AAAAMBAQDJ/pLvAAAAAElFTkSuQmCC",
  "base64",
);

test("every command but serve checks the server first", async () => {
  const nobody = `127.0.0.1:${await freePort()}`;
  for (const args of [["list"], ["ps"], ["show", "x"], ["run", "x", "hi"], ["pull", "x"], ["rm", "x"]]) {
    const r = await runCli(nobody, args);
    fails(r, "could not connect to ollama server, run 'corral serve' to start it");
    assert.equal(r.stdout, "");
  }
  const v = await runCli(nobody, ["--version"]);
  assert.equal(v.code, 0);
  assert.equal(v.stdout, `Warning: could not connect to a running Ollama instance\nWarning: client version is ${VERSION}\n`);
});

test("--version, help and usage errors", async () => {
  assert.equal(ok(await cli(["--version"])).stdout, `corral version is ${VERSION}\n`);
  assert.equal(ok(await cli(["-v"])).stdout, `corral version is ${VERSION}\n`);
  for (const args of [[], ["help"], ["-h"]]) {
    const r = ok(await cli(args));
    assert.match(r.stdout, /^Usage: corral \[options\] \[command\]/);
    for (const c of ["serve|start", "create", "show", "run", "stop", "pull", "push", "list|ls", "ps", "cp", "rm"]) {
      assert.match(r.stdout, new RegExp(`^  ${c.replace("|", "\\|")} `, "m"), c);
    }
  }
  for (const c of ["run", "create", "show", "pull", "push", "list", "ps", "cp", "rm", "stop", "serve"]) {
    const viaFlag = ok(await cli([c, "--help"]));
    assert.match(viaFlag.stdout, new RegExp(`^Usage: corral ${c}(\\|\\w+)? `), c);
    assert.equal(ok(await cli(["help", c])).stdout, viaFlag.stdout);
  }
  assert.match(ok(await cli(["run", "-h"])).stdout, /--keepalive <duration>[\s\S]*--think[\s\S]*--hidethinking/);
  assert.match(ok(await cli(["serve", "--help"])).stdout, /OLLAMA_MODELS/);
  fails(await cli(["bogus"]), 'unknown command "bogus" for "corral"');
  fails(await cli(["show"]), "missing required argument 'MODEL'");
  fails(await cli(["cp", "a"]), "missing required argument 'DESTINATION'");
  fails(await cli(["list", "--nope"]), "unknown option '--nope'");
});

test("create: a Modelfile in its folder, local file uploaded once, server statuses as lines", async () => {
  const dir = join(work, "create");
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir);
  // A GGUF the server has never seen, so it must be uploaded.
  const gguf = join(dir, "stories.gguf");
  await rewriteGguf(STORIES, gguf, (md) => md.set("general.name", { type: GgufValueType.STRING, value: "teller" }));
  const digest = `sha256:${await sha256File(gguf)}`;
  await writeFile(
    join(dir, "Modelfile"),
    [
      "# a story teller",
      "FROM ./stories.gguf",
      "PARAMETER num_predict 12",
      "PARAMETER temperature 0",
      'PARAMETER stop "<|end|>"',
      "PARAMETER stop END",
      'SYSTEM """Tell stories.',
      'Short ones."""',
      "MESSAGE user Hello",
      "MESSAGE assistant Once upon a time",
      "LICENSE MIT",
      "",
    ].join("\n"),
  );
  const first = ok(await cli(["create", "teller"], { cwd: dir }));
  assert.equal(first.stdout, "");
  const lines = first.stderr.trimEnd().split("\n");
  assert.deepEqual(lines.slice(0, 4), [
    "gathering model components",
    `copying file ${digest.slice(0, 19)} 100% 1.2 MB`,
    "parsing GGUF",
    `using existing layer ${digest}`,
  ]);
  assert.match(lines.slice(4, -2).join("\n"), /^(creating new layer sha256:[0-9a-f]{64}\n?){4}$/);
  assert.deepEqual(lines.slice(-2), ["writing manifest", "success"]);

  // The blob is on the server now: a second create does not upload it again.
  const again = ok(await cli(["create", "teller2", "-f", join(dir, "Modelfile")]));
  assert.ok(!again.stderr.includes("copying file"), again.stderr);

  const show = await postJson(srv.url, "/api/show", { model: "teller" });
  assert.equal(show.json.system, "Tell stories.\nShort ones.");
  assert.equal(show.json.license, "MIT");
  assert.deepEqual(show.json.messages, [{ role: "user", content: "Hello" }, { role: "assistant", content: "Once upon a time" }]);
  assert.match(show.json.parameters, /^num_predict +12$/m);
  assert.match(show.json.parameters, /^stop +"<\|end\|>"\nstop +"END"$/m);

  // FROM a model name derives from it.
  await writeFile(join(dir, "Derived"), "FROM teller\nSYSTEM Be brief.\n");
  const derived = ok(await cli(["create", "derived", "--file=Derived"], { cwd: dir }));
  assert.match(derived.stderr, new RegExp(`using existing layer ${digest}`));
  assert.equal((await postJson(srv.url, "/api/show", { model: "derived" })).json.system, "Be brief.");
});

test("create: Modelfile and name faults are reported before anything is sent", async () => {
  const dir = join(work, "faults");
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, "Bad"), "FROM stories\nPARAMETER temperature hot\n");
  fails(await cli(["create", "x", "-f", "Bad"], { cwd: dir }), "(line 2): invalid float value [hot]", { progress: true });
  await writeFile(join(dir, "Bad2"), "FROM stories\nINSTRUCT me\n");
  fails(await cli(["create", "x", "-f", "Bad2"], { cwd: dir }), /^Error: \(line 2\): command must be one of /);
  fails(await cli(["create", "x", "-f", "Missing"], { cwd: dir }), "specified Modelfile wasn't found");
  fails(await cli(["create", "bad:name:x", "-f", "Bad"], { cwd: dir }), "invalid model name: bad:name:x");
  // No Modelfile at all means FROM . — an empty folder holds no model.
  fails(await cli(["create", "x"], { cwd: dir }), "no Modelfile or safetensors files found", { progress: true });
  await writeFile(join(dir, "Adapter"), "FROM stories\nADAPTER ./nope.gguf\n");
  fails(await cli(["create", "x", "-f", "Adapter"], { cwd: dir }), `stat ${join(dir, "nope.gguf")}: no such file or directory`, {
    progress: true,
  });
  await writeFile(join(dir, "Unknown"), "FROM not-a-model-here\n");
  fails(await cli(["create", "x", "-f", "Unknown"], { cwd: dir }), /^Error: .+\n$/, { progress: true });
  assert.equal((await postJson(srv.url, "/api/show", { model: "x" })).status, 404);
});

test("list: Ollama's columns and units, newest first, optional case-insensitive prefix", async () => {
  await createFromGguf(srv.url, "zeta", STORIES);
  const r = ok(await cli(["list"]));
  const [header, ...rows] = r.stdout.trimEnd().split("\n");
  assert.match(header!, /^NAME {2,}ID {14}SIZE {6}MODIFIED +$/);
  assert.match(rows[0]!, /^zeta:latest +[0-9a-f]{12} {4}1\.2 MB {4}(Less than a second|\d+ seconds?) ago {4}$/);
  assert.ok(rows.some((l) => l.startsWith("stories:latest ")));
  assert.deepEqual(ok(await cli(["ls", "ZET"])).stdout.trimEnd().split("\n").slice(1).map((l) => l.split(" ")[0]), ["zeta:latest"]);
  assert.equal(ok(await cli(["list", "nothing-like-this"])).stdout, "NAME    ID    SIZE    MODIFIED \n");
});

test("show: the info view, single fields raw, and their conflicts", async () => {
  const info = ok(await cli(["show", "stories"])).stdout;
  assert.ok(
    info.startsWith(
      "  Model\n" +
        "    architecture        llama    \n" +
        "    parameters          293K     \n" +
        "    context length      2048     \n" +
        "    embedding length    64       \n" +
        "    quantization        F32      \n\n" +
        "  Capabilities\n" +
        "    completion    \n\n" +
        "  Parameters\n",
    ),
    info,
  );
  assert.match(info, /^ {4}num_predict {4}12 {4}$/m);
  assert.ok(!info.includes("Metadata"));
  const verbose = ok(await cli(["show", "stories", "-v"])).stdout;
  assert.match(verbose, /^ {2}Metadata\n {4}general\.architecture +llama +$/m);
  assert.match(verbose, /^ {4}tokenizer\.ggml\.tokens +\[.+ \.\.\.\+\d+ more\] +$/m);
  assert.match(verbose, /^ {2}Tensors\n {4}token_embd\.weight +F32 {4}\[64 512\] +$/m);

  const teller = (flag: string) => cli(["show", "teller", flag]);
  assert.equal(ok(await teller("--system")).stdout, "Tell stories.\nShort ones.");
  assert.equal(ok(await teller("--license")).stdout, "MIT\n");
  assert.equal(ok(await teller("--template")).stdout, "{{ .Prompt }}");
  assert.match(ok(await teller("--parameters")).stdout, /^num_predict {20}12\n[\s\S]*\n$/);
  const modelfile = ok(await teller("--modelfile")).stdout;
  assert.match(modelfile, /^# Modelfile generated by "ollama show"\n/);
  assert.match(modelfile, /^SYSTEM "Tell stories\.\nShort ones\."$/m);
  assert.match(modelfile, /^MESSAGE assistant Once upon a time$/m);
  const tellerInfo = ok(await cli(["show", "teller"])).stdout;
  assert.match(tellerInfo, /\n {2}System\n {4}Tell stories\. {4}\n {4}Short ones\. {6}\n\n {2}License\n {4}MIT {4}\n\n$/);

  fails(await cli(["show", "teller", "--system", "--template"]),
    "only one of '--license', '--modelfile', '--parameters', '--system', or '--template' can be specified");
  fails(await cli(["show", "nope"]), "model 'nope:latest' not found");
});

test("run with a prompt streams the answer to stdout, then a blank line", async () => {
  const r = ok(await cli(["run", "stories", "Once upon a time"]));
  assert.ok(r.stdout.startsWith(STORY), r.stdout);
  assert.ok(r.stdout.endsWith("\n\n") && !r.stdout.endsWith("\n\n\n"), JSON.stringify(r.stdout));
  assert.equal(r.stderr, "");
});

test("run reads piped stdin and puts it before the prompt words", async () => {
  const piped = ok(await cli(["run", "stories"], { input: "Once upon a time" }));
  assert.ok(piped.stdout.startsWith(STORY), piped.stdout);
  const joined = ok(await cli(["run", "stories", "a", "time"], { input: "Once upon" }));
  assert.equal(joined.stdout, piped.stdout);
  // Piped input that is empty leaves a load-only request: no answer, no blank line.
  assert.equal(ok(await cli(["run", "stories"])).stdout, "");
});

test("run --verbose prints the statistics block on stderr", async () => {
  // Stopped first, so the whole prompt is evaluated rather than taken from the cache of the runs before.
  ok(await cli(["stop", "stories"]));
  const r = ok(await cli(["run", "stories", "Once upon a time", "--verbose"]));
  assert.ok(r.stdout.startsWith(STORY));
  const lines = r.stderr.trimEnd().split("\n");
  const names = lines.map((l) => l.slice(0, 22));
  for (const name of ["total duration:       ", "prompt eval count:    ", "prompt eval rate:     ", "eval count:           ", "eval duration:        ", "eval rate:            "]) {
    assert.ok(names.includes(name), `${name} in ${r.stderr}`);
  }
  assert.match(r.stderr, /^total duration: {7}[\d.]+(ns|µs|ms|s|m[\d.]+s)$/m);
  assert.match(r.stderr, /^prompt eval count: {4}5 token\(s\)$/m);
  assert.match(r.stderr, /^eval count: {11}12 token\(s\)$/m);
  assert.match(r.stderr, /^eval rate: {12}\d+\.\d\d tokens\/s$/m);
});

test("run flags: --format json, --keepalive, --think, and their faults", async () => {
  const json = ok(await cli(["run", "stories", "--format", "json", "Once upon a time"]));
  assert.ok(json.stdout.startsWith("{"), json.stdout);
  fails(await cli(["run", "stories", "--think=maybe", "hi"]),
    'invalid value for --think: "maybe" (must be true, false, high, medium, low, or max)');
  fails(await cli(["run", "stories", "--think", "hi"]), /does not support thinking/);
  fails(await cli(["run", "stories", "--keepalive", "10", "hi"]), 'time: missing unit in duration "10"');
  fails(await cli(["run", "stories", "--dimensions", "x", "hi"]), /option '--dimensions <n>' argument 'x' is invalid/);
  ok(await cli(["run", "stories", "--keepalive", "30m", "--nowordwrap", "--hidethinking", "Once upon a time"]));
  const ps = ok(await cli(["ps"])).stdout;
  assert.match(ps, /^stories:latest +[0-9a-f]{12} +[\d.]+ [KMG]B {4}100% CPU {5}2048 {7}(29|30) minutes from now {4}$/m);
});

test("ps, stop: loaded models and their unloading", async () => {
  ok(await cli(["run", "stories", "Once upon a time"]));
  const before = ok(await cli(["ps"])).stdout;
  assert.match(before, /^NAME +ID +SIZE +PROCESSOR +CONTEXT +UNTIL +$/m);
  assert.match(before, /^stories:latest /m);
  // The name prefix filter of ps is case-sensitive.
  assert.equal(ok(await cli(["ps", "STORIES"])).stdout.trimEnd().split("\n").length, 1);
  assert.equal(ok(await cli(["stop", "stories"])).stdout, "");
  assert.ok(!ok(await cli(["ps"])).stdout.includes("stories:latest"));
  fails(await cli(["stop", "nope"]), 'couldn\'t find model "nope" to stop');
});

test("cp copies; rm stops and deletes each model it is given", async () => {
  assert.equal(ok(await cli(["cp", "stories", "copy1"])).stdout, "copied 'stories' to 'copy1'\n");
  ok(await cli(["cp", "stories", "copy2"]));
  // copy1 shares its weights with stories: the runner loaded for it is the one rm must stop.
  ok(await cli(["run", "copy1", "Once upon a time"]));
  assert.equal(ok(await cli(["ps"])).stdout.trimEnd().split("\n").length, 2);
  const r = ok(await cli(["rm", "copy1", "copy2"]));
  assert.equal(r.stdout, "deleted 'copy1'\ndeleted 'copy2'\n");
  assert.equal(r.stderr, "");
  assert.equal(ok(await cli(["ps"])).stdout.trimEnd().split("\n").length, 1);
  const list = ok(await cli(["list"])).stdout;
  assert.ok(!list.includes("copy1") && !list.includes("copy2"), list);
  fails(await cli(["rm", "copy1"]), "model 'copy1' not found");
  fails(await cli(["cp", "nope", "x"]), 'model "nope" not found');
});

test("pull and push take --insecure and report the server's error cleanly", async () => {
  // A registry address that refuses connections: the failure is immediate, whatever the server does.
  const registry = `127.0.0.1:${await freePort()}`;
  for (const verb of ["pull", "push"]) {
    const r = await cli([verb, `${registry}/library/absent:latest`, "--insecure"]);
    fails(r, /^Error: \S.*\n$/, { progress: true });
    assert.ok(!r.stderr.includes("unknown option"), r.stderr);
  }
  // run pulls a model it does not have, and so fails the same way.
  fails(await cli(["run", `${registry}/library/absent`, "hi", "--insecure"]), /^Error: \S.*\n$/, { progress: true });
});

// Thinking tags "time" (the prompt's last word opens the block) and "Lily": the greedy story's
// first words are then the model's thinking.
const TIME_LILY = "{{ range .Messages }}{{ if .Thinking }}time{{ .Thinking }}Lily{{ end }}{{ .Content }}{{ end }}";

test("thinking is shown between Thinking... and ...done thinking., or hidden, or turned off", async () => {
  await createFromGguf(srv.url, "thinker", STORIES, { template: TIME_LILY, parameters: { num_predict: 12, temperature: 0 } });
  const shown = ok(await cli(["run", "thinker", "Once upon a time"]));
  assert.equal(shown.stdout, "Thinking...\n, there was a little girl named \n...done thinking.\n\n. She\n\n");
  assert.equal(ok(await cli(["run", "thinker", "Once upon a time", "--hidethinking"])).stdout, ". She\n\n");
  assert.equal(ok(await cli(["run", "thinker", "Once upon a time", "--think=false"])).stdout, `${STORY}\n\n`);
  assert.equal(ok(await cli(["run", "thinker", "Once upon a time", "--think=high"])).stdout, shown.stdout);
});

test("a vision model gets the images named in the prompt", async () => {
  // Two FROM lines: the weights beside the Modelfile, the projector elsewhere.
  const dir = join(work, "vision");
  await mkdir(dir, { recursive: true });
  // Text weights as wide as the projector's output, or llama-server refuses the pair.
  await copyFile(await buildVisionLlama(dir), join(dir, "weights.gguf"));
  await writeFile(join(dir, "Modelfile"), `FROM ./weights.gguf\nFROM ${PROJECTOR}\nPARAMETER num_predict 4\n`);
  ok(await cli(["create", "seer"], { cwd: dir }));
  assert.match(ok(await cli(["show", "seer"])).stdout, /^ {2}Capabilities\n {4}completion {4}\n {4}vision {8}\n/m);

  const image = join(dir, "red dot.png");
  await writeFile(image, RED_DOT_PNG);
  const r = ok(await cli(["run", "seer", `what is in ${image.replace(/ /g, "\\ ")} ?`]));
  assert.equal(r.stderr, `Added image '${image}'\n`);
  // A text model keeps the path as text.
  const plain = ok(await cli(["run", "stories", `Once upon a time ${image}`]));
  assert.equal(plain.stderr, "");
});

test("an embedding model needs input, and its vector comes from /api/embed", async () => {
  const gguf = join(work, "embed.gguf");
  await rewriteGguf(STORIES, gguf, (md) => md.set("llama.pooling_type", { type: GgufValueType.UINT32, value: 1 }));
  await createFromGguf(srv.url, "embedder", gguf);
  fails(await cli(["run", "embedder"]), 'embedding models require input text. Usage: corral run embedder "your text here"');
  const probe = await postJson(srv.url, "/api/embed", { model: "embedder", input: "hello" });
  const r = await cli(["run", "embedder", "hello", "--dimensions", "8", "--truncate=false"]);
  if (probe.status === 200) {
    ok(r);
    const vector = JSON.parse(r.stdout);
    assert.equal(vector.length, 8);
    assert.ok(vector.every((v: unknown) => typeof v === "number"));
  } else {
    // Until the server has /api/embed, its answer is reported as the error.
    fails(r, `Error: ${probe.json?.error ?? probe.text}\n`);
  }
});
