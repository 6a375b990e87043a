// The output parsers on text, fed in every possible chunking: thinking tags, tool-call tags and
// bare JSON calls; and the tag inference from templates that selects them.
import { test } from "node:test";
import assert from "node:assert/strict";
import { OutputParser, type OutputDelta, type OutputOptions } from "../src/prompt/output.js";
import { parseTemplate, thinkingTags, toolCallTag } from "../src/prompt/template.js";

/** Feeds `text` in chunks of `size` characters and sums the deltas. */
function feed(opts: OutputOptions, text: string, size: number) {
  const p = new OutputParser(opts);
  const sum: OutputDelta = { content: "", thinking: "", calls: [] };
  const add = (d: OutputDelta) => {
    sum.content += d.content;
    sum.thinking += d.thinking;
    sum.calls.push(...d.calls);
  };
  for (let i = 0; i < text.length; i += size) add(p.push(text.slice(i, i + size)));
  add(p.finish());
  return { ...sum, calls: sum.calls.map((c) => ({ index: c.function.index, name: c.function.name, arguments: c.function.arguments, id: c.id })) };
}

function everyChunking(opts: OutputOptions, text: string, check: (r: ReturnType<typeof feed>) => void) {
  for (const size of [1, 2, 3, 5, 7, text.length]) check(feed(opts, text, size));
}

const think = { open: "<think>", close: "</think>", prefilled: false };

test("thinking: the tagged block is thinking, whitespace around the tags is dropped", () => {
  everyChunking({ thinking: think }, "  <think>\n I should greet. </think>\n\nHello!", (r) => {
    assert.equal(r.thinking, "I should greet. ");
    assert.equal(r.content, "Hello!");
  });
  // No opening tag: everything is content, untrimmed.
  everyChunking({ thinking: think }, "  Hello <think>x</think>", (r) => {
    assert.deepEqual([r.thinking, r.content], ["", "  Hello <think>x</think>"]);
  });
  // The prompt opened the block: output starts inside it.
  everyChunking({ thinking: { ...think, prefilled: true } }, "hmm</think>Answer", (r) => assert.deepEqual([r.thinking, r.content], ["hmm", "Answer"]));
  // Output ends inside thinking, or with a partial closing tag: nothing is lost.
  everyChunking({ thinking: think }, "<think>still going </th", (r) => assert.deepEqual([r.thinking, r.content], ["still going </th", ""]));
  everyChunking({ thinking: think }, "<thi", (r) => assert.deepEqual([r.thinking, r.content], ["", "<thi"]));
});

const weather = { name: "get_weather", names: ["get_weather", "get_time", "get"] };

test("tool calls after a <tool_call> tag: content before it streams, calls get ids and indexes", () => {
  const text = 'Let me check.<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris", "unit": "c"}}\n</tool_call>\n<tool_call>\n{"name": "get_time", "arguments": "{\\"tz\\": \\"CET\\"}"}\n</tool_call>';
  everyChunking({ tools: { tag: "<tool_call>", names: weather.names } }, text, (r) => {
    assert.equal(r.content, "Let me check.");
    assert.deepEqual(r.calls.map(({ id: _, ...c }) => c), [
      { index: 0, name: "get_weather", arguments: { city: "Paris", unit: "c" } },
      { index: 1, name: "get_time", arguments: { tz: "CET" } },
    ]);
    for (const c of r.calls) assert.match(c.id!, /^call_[a-z0-9]{8}$/);
  });
});

test("tool calls with a bare { tag: only output that starts with JSON is a call; other JSON stays content", () => {
  everyChunking({ tools: { tag: "{", names: weather.names } }, ' {"name": "get_weather", "parameters": {"city": "Oslo"}}', (r) => {
    // Whitespace before the tag is passed on as content, as Ollama does.
    assert.equal(r.content.trim(), "");
    assert.deepEqual(r.calls.map((c) => [c.name, c.arguments]), [["get_weather", { city: "Oslo" }]]);
  });
  everyChunking({ tools: { tag: "{", names: weather.names } }, 'The answer is {"a": 1}', (r) => {
    assert.deepEqual([r.content, r.calls.length], ['The answer is {"a": 1}', 0]);
  });
  // A JSON object naming no tool is content once its braces balance.
  everyChunking({ tools: { tag: "{", names: weather.names } }, '{"answer": 42}', (r) => assert.deepEqual([r.content, r.calls.length], ['{"answer": 42}', 0]));
  // Arguments keyed by the tool's name; a longer name wins over a prefix of it.
  everyChunking({ tools: { tag: "[TOOL_CALLS]", names: weather.names } }, '[TOOL_CALLS] [{"get_weather": {"city": "Rome"}}]', (r) => {
    assert.deepEqual(r.calls.map((c) => [c.name, c.arguments]), [["get_weather", { city: "Rome" }]]);
  });
});

test("thinking and tool calls together", () => {
  everyChunking(
    { thinking: think, tools: { tag: "<tool_call>", names: ["lookup"] } },
    '<think>need data</think><tool_call>{"name": "lookup", "arguments": {"q": "x"}}</tool_call>',
    (r) => {
      assert.equal(r.thinking, "need data");
      assert.equal(r.content, "");
      assert.deepEqual(r.calls.map((c) => c.arguments), [{ q: "x" }]);
    },
  );
});

test("tags are inferred from templates the way Ollama does", () => {
  const qwen =
    "{{- range $i, $_ := .Messages }}{{- if eq .Role \"assistant\" }}<|im_start|>assistant\n{{ if .Thinking }}<think>{{ .Thinking }}</think>{{ end }}" +
    "{{ if .Content }}{{ .Content }}{{- else if .ToolCalls }}<tool_call>\n{{ range .ToolCalls }}{\"name\": \"{{ .Function.Name }}\", \"arguments\": {{ .Function.Arguments }}}\n{{ end }}</tool_call>{{ end }}<|im_end|>\n" +
    "{{ else }}<|im_start|>{{ .Role }}\n{{ .Content }}<|im_end|>\n{{ end }}{{ end }}{{ if .Tools }}{{ .Tools }}{{ end }}<|im_start|>assistant\n";
  const t = parseTemplate(qwen);
  assert.deepEqual(thinkingTags(t), { open: "<think>", close: "</think>" });
  assert.equal(toolCallTag(t), "<tool_call>");
  const llama31 = '{{ range .Messages }}{{ if .ToolCalls }}{{ range .ToolCalls }}{"name": "{{ .Function.Name }}"}{{ end }}{{ end }}{{ end }}{{ .Tools }}';
  assert.equal(toolCallTag(parseTemplate(llama31)), "{");
  const mistral = "{{ range .Messages }}{{ if .ToolCalls }} [TOOL_CALLS] [{{ range .ToolCalls }}{{ end }}]{{ end }}{{ end }}";
  // The tag is the text up to the first "{", whatever follows the keyword.
  assert.equal(toolCallTag(parseTemplate(mistral)), "[TOOL_CALLS] [");
  // Thinking outside a range over .Messages does not count.
  assert.deepEqual(thinkingTags(parseTemplate("{{ if .Thinking }}<t>{{ .Thinking }}</t>{{ end }}{{ .Prompt }}")), { open: "", close: "" });
});
