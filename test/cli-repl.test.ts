// The interactive `corral run` in a real pseudo-terminal (tmux), against a real server and model:
// a conversation, """ blocks, the slash commands, Ctrl+C during an answer, Ctrl+D and /bye, and
// the input history file under $HOME.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GgufValueType } from "../src/gguf/types.js";
import { CLI } from "./support/cli.js";
import { rewriteGguf } from "./support/gguf.js";
import { createFromGguf, postJson, startTestServer, STORIES, type TestServer } from "./support/server.js";
import { Terminal } from "./support/tmux.js";

let srv: TestServer;
let home: string;
const terminals: Terminal[] = [];

before(async () => {
  srv = await startTestServer();
  home = await mkdtemp(join(tmpdir(), "corral-repl-home-"));
  await createFromGguf(srv.url, "chat", STORIES, { parameters: { num_predict: 12, temperature: 0 } });
  // Thinking tags "time" (the prompt's last word opens the block) and "Lily".
  await createFromGguf(srv.url, "thinker", STORIES, {
    template: "{{ range .Messages }}{{ if .Thinking }}time{{ .Thinking }}Lily{{ end }}{{ .Content }}{{ end }}",
    parameters: { num_predict: 16, temperature: 0 },
  });
  await createFromGguf(srv.url, "teller", STORIES, {
    parameters: { num_predict: 12, temperature: 0 },
    messages: [{ role: "user", content: "Hello" }, { role: "assistant", content: "Hi there" }],
  });
  // stories260K whose end-of-sequence id is <unk>: its answers never end by themselves.
  const endless = join(home, "endless.gguf");
  await rewriteGguf(STORIES, endless, (md) => md.set("tokenizer.ggml.eos_token_id", { type: GgufValueType.UINT32, value: 0 }));
  await createFromGguf(srv.url, "endless", endless, { parameters: { temperature: 0 } });
});
after(async () => {
  for (const t of terminals) await t.stop();
  await srv.stop();
  await rm(home, { recursive: true, force: true });
});

async function run(model: string): Promise<Terminal> {
  const t = await Terminal.start([process.execPath, CLI, "run", model], { OLLAMA_HOST: `127.0.0.1:${srv.port}`, HOME: home });
  terminals.push(t);
  await t.waitFor(PROMPT_READY);
  return t;
}

const PLACEHOLDER = ">>> Send a message (/? for help)";
/** The prompt is back, waiting on an empty line. */
const PROMPT_READY = (s: string) => s.endsWith(PLACEHOLDER);
const STORY = ", there was a little girl named Lily. She";

/** Sends a message and waits for the answer to finish (the prompt after it). */
async function say(t: Terminal, text: string): Promise<string> {
  const before = (await t.screen()).split("\n").length;
  await t.line(text);
  return t.waitFor((s) => s.split("\n").length > before + 1 && PROMPT_READY(s));
}

async function savedMessages(model: string) {
  const r = await postJson(srv.url, "/api/show", { model });
  assert.equal(r.status, 200, r.text);
  return r.json.messages;
}

test("a two-turn conversation keeps its history; /save stores it; /bye exits cleanly", async () => {
  const t = await run("chat");
  const first = await say(t, "Once upon a time");
  assert.ok(first.includes(`>>> Once upon a time\n${STORY}\n\n${PLACEHOLDER}`), first);
  await say(t, "Lily");
  await t.line("/save convo");
  await t.waitFor(/^Created new model 'convo'$/m);
  await t.line("/bye");
  await t.waitFor(/\[exited 0\]$/);
  const messages = await savedMessages("convo");
  assert.deepEqual(messages.map((m: { role: string }) => m.role), ["user", "assistant", "user", "assistant"]);
  assert.equal(messages[0].content, "Once upon a time");
  assert.equal(messages[1].content, STORY);
  assert.equal(messages[2].content, "Lily");
  assert.ok(messages[3].content.length > 0);
});

test('""" opens a multi-line message that ends at a line ending with """', async () => {
  const t = await run("chat");
  await t.line('"""');
  await t.waitFor(/^\.\.\. Press Enter to send$/m);
  await t.line("Once upon");
  await t.waitFor((s) => s.endsWith("... Press Enter to send") && s.includes("Once upon"));
  await say(t, 'a time"""');
  await t.line("/save multi");
  await t.waitFor(/^Created new model 'multi'$/m);
  const messages = await savedMessages("multi");
  assert.equal(messages[0].content, "Once upon\na time");
  assert.equal(messages[0].role, "user");
  await t.press("C-d");
  await t.waitFor(/\[exited 0\]$/);
});

test("pasted lines join one message, sent by the Enter after the paste", async () => {
  const t = await run("chat");
  await t.paste("Once upon\na time");
  await t.waitFor((s) => s.endsWith("a time"));
  await say(t, "");
  await t.line("/save pasted");
  await t.waitFor(/^Created new model 'pasted'$/m);
  const messages = await savedMessages("pasted");
  assert.deepEqual(messages.slice(0, 1), [{ role: "user", content: "Once upon\na time" }]);
  await t.line("/bye");
  await t.waitFor(/\[exited 0\]$/);
});

test("/set and /show: parameters, system, modes, and their messages", async () => {
  const t = await run("chat");
  const expect = async (command: string, shown: RegExp) => {
    await t.line(command);
    return t.waitFor((s) => shown.test(s) && PROMPT_READY(s));
  };
  await expect("/set parameter num_predict 4", /^Set parameter 'num_predict' to '4'$/m);
  await expect("/set parameter stop END ZZZ", /^Set parameter 'stop' to 'END, ZZZ'$/m);
  await expect("/set parameter bogus 1", /^Couldn't set parameter: "unknown parameter 'bogus'"$/m);
  await expect("/set parameter num_ctx lots", /^Couldn't set parameter: "invalid int value \[lots\]"$/m);
  const params = await expect("/show parameters", /User defined parameters:/);
  assert.ok(
    params.includes(
      "Model defined parameters:\n  num_predict                    12\n  temperature                    0\n\n" +
        "User defined parameters:\n  num_predict                    4\n  stop                           [END ZZZ]\n",
    ),
    params,
  );
  await expect("/set system You are brief.", /^Set system message\.$/m);
  await expect("/show system", /^You are brief\.$/m);
  await t.line('/set system """Two');
  await t.waitFor((s) => s.endsWith('>>> /set system """Two\n... Press Enter to send'));
  await expect('lines."""', /Set system message\.\n(?:[\s\S]*)Set system message\./);
  await expect("/set format json", /^Set format to 'json' mode\.$/m);
  await expect("/set format yaml", /^Invalid or missing format\. For 'json' mode use '\/set format json'$/m);
  await expect("/set noformat", /^Disabled format\.$/m);
  await expect("/set nowordwrap", /^Set 'nowordwrap' mode\.$/m);
  await expect("/set think", /warning: model "chat" does not support thinking output\nSet 'think' mode\./);
  await expect("/set nothink", /^Set 'nothink' mode\.$/m);
  await expect("/set verbose", /^Set 'verbose' mode\.$/m);
  // The session's parameters apply: four tokens, then the statistics.
  const answer = await say(t, "Once upon a time");
  assert.match(answer, /^eval count: +4 token\(s\)$/m);
  await expect("/set quiet", /^Set 'quiet' mode\.$/m);
  await t.line("/save tuned");
  await t.waitFor(/^Created new model 'tuned'$/m);
  const tuned = await postJson(srv.url, "/api/show", { model: "tuned" });
  assert.equal(tuned.json.system, "Two\nlines.");
  assert.match(tuned.json.parameters, /^num_predict +4$/m);
  assert.match(tuned.json.parameters, /^stop +"END"\nstop +"ZZZ"$/m);
  await expect("/save bad:name:x", /^error: The model name 'bad:name:x' is invalid$/m);
  await expect("/show info", /^ {2}Model\n {4}architecture {8}llama$/m);
  await expect("/show template", /^\{\{ \.Prompt \}\}$/m);
  await expect("/show license", /^No license was specified for this model\.$/m);
  await expect("/clear", /^Cleared session context$/m);
  await expect("/?", /^Available Commands:\n {2}\/set {12}Set session variables$/m);
  await expect("/? shortcuts", /^Available keyboard shortcuts:$/m);
  await expect("/frobnicate", /^Unknown command '\/frobnicate'\. Type \/\? for help$/m);
  await expect("/load nope", /^Loading model 'nope'\nCouldn't find model 'nope'$/m);
  await expect("/load teller", /^Loading model 'teller'$/m);
  await t.line("/bye");
  await t.waitFor(/\[exited 0\]$/);
});

test("thinking shows between its markers; /set nothink turns it off", async () => {
  const t = await run("thinker");
  const thought = await say(t, "Once upon a time");
  assert.ok(thought.includes(">>> Once upon a time\nThinking...\n, there was a little girl named\n...done thinking.\n\n. She loved to play\n\n"), thought);
  await t.line("/set nothink");
  await t.waitFor(/^Set 'nothink' mode\.$/m);
  assert.ok(!(await t.screen()).includes("does not support thinking"));
  const plain = await say(t, "Once upon a time");
  assert.ok(plain.endsWith(`>>> Once upon a time\n${STORY} loved to play\n\n${PLACEHOLDER}`), plain);
  await t.line("/bye");
  await t.waitFor(/\[exited 0\]$/);
});

test("Ctrl+C stops an answer and keeps the session; on an empty line it explains how to leave", async () => {
  const t = await run("endless");
  await t.line("Once upon a time");
  await t.waitFor(/there was a little girl/);
  await t.press("C-c");
  const after = await t.waitFor(PROMPT_READY);
  assert.ok(!after.includes("[exited"), after);
  // The cut-off answer keeps its text and the prompt starts on a fresh line.
  assert.match(after, /there was a little girl[\s\S]*\n\n>>> Send a message \(\/\? for help\)$/);
  await t.press("C-c");
  await t.waitFor(/Use Ctrl \+ d or \/bye to exit\.\n>>> Send a message \(\/\? for help\)$/);
  await t.line("/bye");
  await t.waitFor(/\[exited 0\]$/);
});

test("a model's stored messages are shown first; input history persists under $HOME", async () => {
  const t = await run("teller");
  assert.ok((await t.screen()).startsWith(">>> Hello\nHi there\n\n>>> "), await t.screen());
  await say(t, "remember this line");
  await t.line("/bye");
  await t.waitFor(/\[exited 0\]$/);
  const history = await readFile(join(home, ".corral", "history"), "utf8");
  assert.ok(history.endsWith("remember this line\n/bye\n"), history);

  // A new session recalls earlier input with the Up key.
  const again = await run("teller");
  await again.press("Up", "Up");
  await again.waitFor((s) => s.endsWith(">>> remember this line"));
  await again.press("C-u", "C-d");
  await again.waitFor(/\[exited 0\]$/);
});
