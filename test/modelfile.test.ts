// The Modelfile parser (spec §9.1) and its mapping onto a create request (§9.2), without a server:
// lexical rules, quoting, line-numbered errors, parameter typing, and path resolution hooks.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  decodeModelfile,
  ModelfileError,
  modelfileRequest,
  parseModelfile,
  parseParameter,
  type PathResolver,
} from "../src/create/modelfile.js";

// Nothing exists on this "disk": every FROM is a model name.
const noFiles: PathResolver = async (instruction, arg) => {
  if (instruction === "from") return undefined;
  throw new Error(`stat ${arg}: no such file or directory`);
};

const request = (text: string, resolve: PathResolver = noFiles, warn?: (m: string) => void) =>
  modelfileRequest(parseModelfile(text), resolve, warn);

test("the spec's example becomes the spec's create request", async () => {
  const text = [
    "FROM llama3.2",
    "# comment",
    "PARAMETER temperature 1",
    'PARAMETER stop "<|eot_id|>"',
    "PARAMETER stop <|start_header_id|>",
    'SYSTEM """You are Mario.',
    'Be brief."""',
    "MESSAGE user Is Toronto in Canada?",
    "MESSAGE assistant yes",
    'LICENSE "MIT"',
    "",
  ].join("\n");
  assert.deepEqual(await request(text), {
    from: "llama3.2",
    parameters: { temperature: 1, stop: ["<|eot_id|>", "<|start_header_id|>"] },
    system: "You are Mario.\nBe brief.",
    messages: [
      { role: "user", content: "Is Toronto in Canada?" },
      { role: "assistant", content: "yes" },
    ],
    license: ["MIT"],
  });
});

test("commands keep their line numbers; instructions are case-insensitive; comments only start a line", () => {
  const commands = parseModelfile("\n  # intro\n\tfrom base\nSyStEm keep # this\n\nparameter seed 42\n");
  assert.deepEqual(commands, [
    { instruction: "from", value: "base", line: 3 },
    { instruction: "system", value: "keep # this", line: 4 },
    { instruction: "parameter", name: "seed", value: "42", line: 6 },
  ]);
});

test("quoted values are verbatim, may span lines, and single quotes are not special", () => {
  const [, a, b, c, d] = parseModelfile(
    ['FROM m', 'TEMPLATE """  {{ .Prompt }}\n\n  """', 'SYSTEM "two\nlines"', "LICENSE 'single'", 'MESSAGE user  spaced out  '].join("\n"),
  );
  assert.equal(a!.value, "  {{ .Prompt }}\n\n  ");
  assert.deepEqual([a!.line, b!.line, c!.line, d!.line], [2, 5, 7, 8]);
  assert.equal(b!.value, "two\nlines");
  assert.equal(c!.value, "'single'");
  assert.deepEqual(d, { instruction: "message", role: "user", value: "spaced out", line: 8 });
});

test("values keep inner spaces and tabs; other non-printable characters are dropped", () => {
  const [, sys] = parseModelfile("FROM m\nSYSTEM a  b\tc\u0007d\u200b\n");
  assert.equal(sys!.value, "a  b\tcd");
});

test("CRLF line ends and byte-order marks are honoured", () => {
  const [from, sys] = parseModelfile('\ufeffFROM m\r\nSYSTEM """x\r\ny"""\r\n');
  assert.equal(from!.value, "m");
  assert.equal(sys!.value, "x\ny");
  const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from("FROM m\nSYSTEM é\n", "utf16le")]);
  assert.deepEqual(parseModelfile(decodeModelfile(utf16)).map((c) => c.value), ["m", "é"]);
  assert.equal(decodeModelfile(Buffer.from("\ufeffFROM m", "utf8")), "FROM m");
});

test("faults name their line", () => {
  const fault = (text: string, message: string) =>
    assert.throws(() => parseModelfile(text), (e: unknown) => e instanceof ModelfileError && e.message === message);
  fault("FROM m\nFOO bar\n",
    '(line 2): command must be one of "from", "license", "template", "system", "adapter", "draft", "renderer", "parser", "parameter", "message", or "requires"');
  fault("FROM m\n\nMESSAGE robot hi\n", '(line 3): message role must be one of "system", "user", or "assistant"');
  fault('FROM m\nSYSTEM """never\nclosed\n', "(line 2): unexpected EOF");
  fault('FROM m\nSYSTEM "open\n', "(line 2): unexpected EOF");
  fault("FROM m\nSYSTEM\nx\n", "(line 2): missing value for SYSTEM");
  fault("FROM m\nPARAMETER top-k 4\n", '(line 2): invalid parameter name "top-"');
  fault("# only a comment\nSYSTEM hi\n", "no FROM line");
  fault("", "no FROM line");
});

test("parameters are typed like Ollama's options, with Ollama's errors", () => {
  assert.equal(parseParameter("num_ctx", ["4096"]), 4096);
  assert.equal(parseParameter("seed", ["-1"]), -1);
  assert.equal(parseParameter("temperature", ["0.7"]), 0.7); // float32, printed shortest
  assert.equal(parseParameter("top_p", [".5"]), 0.5);
  assert.equal(parseParameter("repeat_penalty", ["1e0"]), 1);
  assert.equal(parseParameter("use_mmap", ["F"]), false);
  assert.equal(parseParameter("use_mmap", ["true"]), true);
  assert.deepEqual(parseParameter("stop", ["a", "b"]), ["a", "b"]);
  assert.throws(() => parseParameter("numa", ["true"]), /^Error: unknown parameter 'numa'$/);
  assert.throws(() => parseParameter("num_ctx", ["4k"]), /^Error: invalid int value \[4k\]$/);
  assert.throws(() => parseParameter("num_ctx", ["1.5"]), /invalid int value \[1\.5\]/);
  assert.throws(() => parseParameter("temperature", ["hot"]), /invalid float value \[hot\]/);
  assert.throws(() => parseParameter("temperature", ["1e39"]), /invalid float value \[1e39\]/);
  assert.throws(() => parseParameter("use_mmap", ["yes"]), /invalid bool value \[yes\]/);
});

test("PARAMETER faults carry the line; deprecated parameters warn and are skipped", async () => {
  await assert.rejects(request("FROM m\n\nPARAMETER num_ctx big\n"), /^ModelfileError: \(line 3\): invalid int value \[big\]$/);
  await assert.rejects(request("FROM m\nPARAMETER bogus 1\n"), /\(line 2\): unknown parameter 'bogus'/);
  const warnings: string[] = [];
  const req = await request("FROM m\nPARAMETER mirostat 2\nPARAMETER top_k 5\n", noFiles, (w) => warnings.push(w));
  assert.deepEqual(req.parameters, { top_k: 5 });
  assert.deepEqual(warnings, ["warning: parameter mirostat is deprecated"]);
});

test("last TEMPLATE / SYSTEM win, LICENSEs and MESSAGEs accumulate, RENDERER / PARSER / REQUIRES pass through", async () => {
  const req = await request(
    "FROM m\nSYSTEM one\nSYSTEM two\nTEMPLATE a\nTEMPLATE b\nLICENSE x\nLICENSE y\nRENDERER r\nPARSER p\nREQUIRES v0.14.0\n",
  );
  assert.deepEqual(req, { from: "m", system: "two", template: "b", license: ["x", "y"], renderer: "r", parser: "p", requires: "0.14.0" });
  assert.equal((await request("FROM m\nREQUIRES 1.2\n")).requires, "1.2");
  assert.equal((await request("FROM m\nREQUIRES 1.2.3-rc.1+build.5\n")).requires, "1.2.3-rc.1+build.5");
  await assert.rejects(request("FROM m\nREQUIRES latest\n"), /\(line 2\): requires must be a valid semver \(e\.g\. 0\.14\.0\)/);
  await assert.rejects(request("FROM m\nREQUIRES 1.02.0\n"), /requires must be a valid semver/);
});

test("FROM paths that exist become files (merged across FROM lines); ADAPTER and DRAFT paths must exist", async () => {
  const disk: Record<string, Record<string, string>> = {
    "./model.gguf": { "/models/model.gguf": "sha256:aa" },
    "./mmproj.gguf": { "/models/mmproj.gguf": "sha256:bb" },
    "./lora.gguf": { "/models/lora.gguf": "sha256:cc" },
  };
  const seen: string[] = [];
  const resolve: PathResolver = async (instruction, arg) => {
    seen.push(`${instruction} ${arg}`);
    if (disk[arg]) return disk[arg];
    if (instruction === "from") return undefined;
    throw new Error(`stat ${arg}: no such file or directory`);
  };
  const req = await request("FROM ./model.gguf\nFROM ./mmproj.gguf\nADAPTER ./lora.gguf\n", resolve);
  assert.deepEqual(req, {
    files: { "/models/model.gguf": "sha256:aa", "/models/mmproj.gguf": "sha256:bb" },
    adapters: { "/models/lora.gguf": "sha256:cc" },
  });
  assert.deepEqual(seen, ["from ./model.gguf", "from ./mmproj.gguf", "adapter ./lora.gguf"]);
  await assert.rejects(request("FROM base\nADAPTER ./nope.gguf\n", resolve), /stat \.\/nope\.gguf: no such file or directory/);
  assert.deepEqual(await request("FROM base\nDRAFT ./model.gguf\n", resolve), {
    from: "base",
    draft_files: { "/models/model.gguf": "sha256:aa" },
  });
});
