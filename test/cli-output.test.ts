// How the CLI prints, without a server: sizes, relative times, Go durations, tables and the show
// view (checked against the layouts Ollama's own CLI tests expect), progress lines, word wrap,
// thinking, the --verbose block, and cobra-style flag spellings.
import { test } from "node:test";
import assert from "node:assert/strict";
import { normalizeArgs } from "../src/cli/args.js";
import type { ShowInfo } from "../src/cli/client.js";
import { goDuration, goFloat, humanBytes, humanNumber, humanTime } from "../src/cli/format.js";
import { Bar } from "../src/cli/progress/bar.js";
import { Progress } from "../src/cli/progress/progress.js";
import { statusRenderer } from "../src/cli/progress/statuses.js";
import { statsSummary } from "../src/cli/run/stats.js";
import { TurnPrinter } from "../src/cli/run/turn.js";
import { WordWrapper } from "../src/cli/run/wrap.js";
import { showInfo } from "../src/cli/show-info.js";
import { renderTable } from "../src/cli/table.js";

test("sizes use decimal units, one decimal below 10 unless whole", () => {
  assert.equal(humanBytes(2.019e9), "2.0 GB");
  assert.equal(humanBytes(4.68e9), "4.7 GB");
  assert.equal(humanBytes(42.1e9), "42 GB");
  assert.equal(humanBytes(2e9), "2 GB");
  assert.equal(humanBytes(999), "999 B");
  assert.equal(humanBytes(1024), "1.0 KB");
  assert.equal(humanBytes(1185569), "1.2 MB");
  assert.equal(humanBytes(3.2e12), "3.2 TB");
  assert.equal(humanNumber(7e9), "7B");
  assert.equal(humanNumber(1.5e9), "1.5B");
  assert.equal(humanNumber(133_700_000), "133.70M");
  assert.equal(humanNumber(292_800), "293K");
});

test("relative times read like Ollama's", () => {
  const now = Date.UTC(2025, 0, 1);
  const ago = (ms: number) => humanTime(new Date(now - ms), "Never", now);
  const s = 1000;
  const h = 3600 * s;
  assert.equal(ago(300), "Less than a second ago");
  assert.equal(ago(s), "1 second ago");
  assert.equal(ago(45 * s), "45 seconds ago");
  assert.equal(ago(90 * s), "About a minute ago");
  assert.equal(ago(5 * 60 * s), "5 minutes ago");
  assert.equal(ago(h), "About an hour ago");
  assert.equal(ago(24 * h), "24 hours ago");
  assert.equal(ago(48 * h), "2 days ago");
  assert.equal(ago(15 * 24 * h), "2 weeks ago");
  assert.equal(ago(90 * 24 * h), "3 months ago");
  assert.equal(ago(3 * 365 * 24 * h), "3 years ago");
  assert.equal(ago(-4 * 60 * s - 30 * s), "4 minutes from now");
  assert.equal(humanTime(new Date("2318-04-01T00:00:00Z"), "Never", now), "Forever");
  assert.equal(humanTime(new Date("0001-01-01T00:00:00Z"), "Never", now), "Never");
});

test("durations print in Go's notation", () => {
  assert.equal(goDuration(1_234_567_890), "1.23456789s");
  assert.equal(goDuration(12_300_000), "12.3ms");
  assert.equal(goDuration(28_562), "28.562µs");
  assert.equal(goDuration(500), "500ns");
  assert.equal(goDuration(62_500_000_000), "1m2.5s");
  assert.equal(goDuration(3_600_000_000_000), "1h0m0s");
  assert.equal(goDuration(0), "0s");
  assert.equal(goFloat(8e9), "8e+09");
  assert.equal(goFloat(1e-5), "1e-05");
  assert.equal(goFloat(2048), "2048");
  assert.equal(goFloat(0.5), "0.5");
});

test("tables pad every cell and follow it with four spaces (the header's last cell with one)", () => {
  assert.equal(
    renderTable([["model1", "sha256:abc12", "1.0 KB", "24 hours ago"], ["model2", "sha256:def45", "2.0 KB", "2 days ago"]], {
      header: ["NAME", "ID", "SIZE", "MODIFIED"],
    }),
    "NAME      ID              SIZE      MODIFIED     \n" +
      "model1    sha256:abc12    1.0 KB    24 hours ago    \n" +
      "model2    sha256:def45    2.0 KB    2 days ago      \n",
  );
  assert.equal(renderTable([], { header: ["NAME", "ID"] }), "NAME    ID \n");
  assert.equal(renderTable([["", "x"]]), "    x    \n");
});

const details = { parent_model: "", format: "gguf", family: "test", families: null, parameter_size: "7B", quantization_level: "FP16" };
const info = (extra: Partial<ShowInfo>) => ({ details, ...extra }) as ShowInfo;

test("show's info view matches Ollama's layout", () => {
  assert.equal(
    showInfo(info({}), false),
    "  Model\n    architecture    test    \n    parameters      7B      \n    quantization    FP16    \n\n",
  );
  const model_info = {
    "general.architecture": "test",
    "general.parameter_count": 8_000_000_000,
    "some.true_bool": true,
    "test.context_length": 1000,
    "test.embedding_length": 11434,
    "tokenizer.ggml.tokens": ["a", "b", "c", "d", "e", "f"],
  };
  const verbose = showInfo(
    info({
      details: { ...details, parameter_size: "8B" },
      model_info,
      parameters: 'stop                           "up"\ntemperature                    0.7',
      tensors: [{ name: "blk.0.attn_k.weight", type: "BF16", shape: [42, 3117] }],
      capabilities: ["completion", "tools"],
    }),
    true,
  );
  assert.equal(
    verbose,
    [
      "  Model",
      "    architecture        test     ",
      "    parameters          8B       ",
      "    context length      1000     ",
      "    embedding length    11434    ",
      "    quantization        FP16     ",
      "",
      "  Capabilities",
      "    completion    ",
      "    tools         ",
      "",
      "  Parameters",
      '    stop           "up"    ',
      "    temperature    0.7     ",
      "",
      "  Metadata",
      "    general.architecture       test                  ",
      "    general.parameter_count    8e+09                 ",
      "    some.true_bool             true                  ",
      "    test.context_length        1000                  ",
      "    test.embedding_length      11434                 ",
      "    tokenizer.ggml.tokens      [a b c ...+3 more]    ",
      "",
      "  Tensors",
      "    blk.0.attn_k.weight    BF16    [42 3117]    ",
      "",
      "",
    ].join("\n"),
  );
  assert.equal(
    showInfo(
      info({
        projector_info: {
          "general.architecture": "clip",
          "general.parameter_count": 133_700_000,
          "clip.vision.embedding_length": 0,
          "clip.vision.projection_dim": 0,
        },
        system: "You are a pirate!\nAhoy, matey!\nWeigh anchor!\n\t\t\t",
        license: "MIT License\nCopyright (c) Ollama\n",
      }),
      false,
    ),
    [
      "  Model",
      "    architecture    test    ",
      "    parameters      7B      ",
      "    quantization    FP16    ",
      "",
      "  Projector",
      "    architecture        clip       ",
      "    parameters          133.70M    ",
      "    embedding length    0          ",
      "    dimensions          0          ",
      "",
      "  System",
      "    You are a pirate!    ",
      "    Ahoy, matey!         ",
      "    ...                  ",
      "",
      "  License",
      "    MIT License             ",
      "    Copyright (c) Ollama    ",
      "",
      "",
    ].join("\n"),
  );
});

/** A stand-in for process.stderr that records what is written. */
function fakeStream(tty: boolean, columns = 80) {
  const chunks: string[] = [];
  const stream = { isTTY: tty, columns, rows: 24, write: (s: string) => (chunks.push(s), true) };
  return { stream: stream as unknown as NodeJS.WriteStream, text: () => chunks.join("") };
}

test("a transfer bar shows percent, sizes and the bar, one column short of the terminal's width", () => {
  const done = new Bar("pulling 6a0746a1ec1a:", 4.68e9, 4.68e9).render(80);
  assert.equal(done.length, 79);
  assert.match(done, /^pulling 6a0746a1ec1a: 100% ▕█+▏ 4.7 GB {25}$/);
  const half = new Bar("copying", 1000, 0);
  half.set(500);
  const line = half.render(60);
  assert.equal(line.length, 59);
  assert.match(line, /^copying  50% ▕█+ +▏  500 B\/  1 KB {18}$/);
  assert.equal(half.plain(), "copying 50% 500 B/1 KB");
});

test("without a terminal, progress prints each line once, finished, with no escape codes", () => {
  const { stream, text } = fakeStream(false);
  const progress = new Progress(stream);
  const render = statusRenderer(progress, "pull");
  render({ status: "pulling manifest" });
  render({ status: "pulling aaaaaaaaaaaa", digest: `sha256:${"a".repeat(64)}`, total: 2000 });
  render({ status: "pulling aaaaaaaaaaaa", digest: `sha256:${"a".repeat(64)}`, total: 2000, completed: 1000 });
  render({ status: "pulling aaaaaaaaaaaa", digest: `sha256:${"a".repeat(64)}`, total: 2000, completed: 2000 });
  render({ status: "verifying sha256 digest" });
  render({ status: "success" });
  progress.stop();
  assert.equal(text(), "pulling manifest\npulling aaaaaaaaaaaa: 100% 2 KB\nverifying sha256 digest\nsuccess\n");
  const quiet = fakeStream(false);
  const transient = new Progress(quiet.stream);
  transient.spinner("");
  transient.stopAndClear();
  assert.equal(quiet.text(), "");
});

test("on a terminal, progress redraws its lines in place and can clear them", () => {
  const { stream, text } = fakeStream(true, 40);
  const progress = new Progress(stream);
  progress.spinner("gathering model components");
  const spinner = progress.spinner("writing manifest");
  spinner.stop();
  progress.stop();
  const out = text();
  assert.ok(out.includes("\x1b[?25l") && out.endsWith("\n"), JSON.stringify(out));
  assert.ok(out.includes("gathering model components \x1b[K\nwriting manifest \x1b[K"), JSON.stringify(out));
  const cleared = fakeStream(true);
  const p = new Progress(cleared.stream);
  p.spinner("");
  p.stopAndClear();
  assert.equal(cleared.text(), "\x1b[?25l\x1b[?25h");
});

test("word wrap moves a word that would cross the margin onto the next line", () => {
  let out = "";
  const wrap = new WordWrapper((s) => (out += s), 15);
  wrap.push("aaa bbb cc");
  wrap.push("cc dd");
  assert.equal(out, "aaa bbb cc\x1b[2D\x1b[K\ncccc dd");
  out = "";
  new WordWrapper((s) => (out += s), undefined).push("no wrapping at all, ever");
  assert.equal(out, "no wrapping at all, ever");
});

test("thinking is framed (and hidden on request); tool calls are reported, not run", () => {
  let out = "";
  const plain = new TurnPrinter((s) => (out += s), { hideThinking: false, plain: true, wrapWidth: undefined });
  plain.push("Let me", undefined);
  plain.push(" think", undefined);
  plain.push(undefined, "Hi");
  plain.push(undefined, " there");
  assert.equal(out, "Thinking...\nLet me think\n...done thinking.\n\nHi there");
  assert.deepEqual([plain.thinking, plain.content], ["Let me think", "Hi there"]);
  out = "";
  const hidden = new TurnPrinter((s) => (out += s), { hideThinking: true, plain: true, wrapWidth: undefined });
  hidden.push("secret", undefined);
  hidden.push(undefined, "answer", [{ function: { name: "get_weather", arguments: { city: "Paris" } } }]);
  assert.equal(out, `answer  Model called a non-existent function 'get_weather()' with arguments: {"city":"Paris"}`);
  out = "";
  const coloured = new TurnPrinter((s) => (out += s), { hideThinking: false, plain: false, wrapWidth: undefined });
  coloured.push("hm\n", "ok");
  assert.equal(out, "\x1b[38;5;245m\x1b[1mThinking...\n\x1b[0m\x1b[38;5;245mhm\n\x1b[38;5;245m\x1b[1m...done thinking.\n\n\x1b[0mok");
});

test("the --verbose block prints Go durations and rates, leaving out zero values", () => {
  assert.equal(
    statsSummary({
      total_duration: 1_455_640_766,
      load_duration: 28_562,
      prompt_eval_count: 16,
      prompt_eval_duration: 14_902_171,
      eval_count: 24,
      eval_duration: 1_437_684_773,
    }),
    [
      "total duration:       1.455640766s",
      "load duration:        28.562µs",
      "prompt eval count:    16 token(s)",
      "prompt eval duration: 14.902171ms",
      "prompt eval rate:     1073.67 tokens/s",
      "eval count:           24 token(s)",
      "eval duration:        1.437684773s",
      "eval rate:            16.69 tokens/s",
      "",
    ].join("\n"),
  );
  assert.equal(statsSummary({ total_duration: 1000, eval_count: 0 }), "total duration:       1µs\n");
});

test("cobra-style --flag=value spellings become commander's", () => {
  assert.deepEqual(
    normalizeArgs(["run", "m", "--think=high", "--verbose=true", "--insecure=false", "--truncate=false", "--think", "hi"]),
    ["run", "m", "--think-value", "high", "--verbose", "--no-truncate", "--think", "hi"],
  );
  assert.deepEqual(normalizeArgs(["run", "m", "--", "--think=x"]), ["run", "m", "--", "--think=x"]);
  assert.deepEqual(normalizeArgs(["create", "m", "--file=Modelfile"]), ["create", "m", "--file=Modelfile"]);
});
