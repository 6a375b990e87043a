// The Go text/template engine beyond the conformance data: trimming, control flow, scoping,
// printing rules, built-in and Ollama functions, and Go's error texts.
import { test } from "node:test";
import assert from "node:assert/strict";
import { GoList, GoMap, GoStruct, fromJson, type GoValue } from "../src/prompt/gotemplate/index.js";
import { executeTemplate, parseTemplate, TemplateError } from "../src/prompt/template.js";
import { sprintf } from "../src/prompt/gotemplate/fmt.js";
import { renderPrompt } from "../src/prompt/render.js";

const run = (src: string, data: Record<string, unknown> = {}) => executeTemplate(parseTemplate(src), fromJson(data));
// Templates mentioning neither .Messages nor .Response get {{ .Response }} appended; give them a Response.
const exec = (src: string, data: Record<string, unknown> = {}) => run(src, { Response: "", ...data });

test("trim markers remove all adjacent whitespace, comments vanish", () => {
  assert.equal(exec("a  \n {{- .X -}} \n\t b", { X: "x" }), "axb");
  assert.equal(exec("a {{- /* note */ -}} b{{/* c */}}c"), "abc");
  assert.equal(exec("{{ .X }} {{- 3 }}", { X: 1 }), "13");
  assert.equal(exec("{{-3}}"), "-3");
});

test("if / else if / else, with, and range with index, else, break and continue", () => {
  const t = '{{ if eq .N "a" }}one{{ else if eq .N "b" }}two{{ else }}many{{ end }}';
  assert.deepEqual(["a", "b", "c"].map((n) => exec(t, { N: n })), ["one", "two", "many"]);
  // JSON numbers are float64, template literals ints: Go refuses to compare them.
  assert.throws(() => exec("{{ eq .N 1 }}", { N: 1 }), /incompatible types for comparison/);
  assert.equal(exec("{{ with .A }}[{{ .B }}]{{ else }}none{{ end }}", { A: { B: "b" } }), "[b]");
  assert.equal(exec("{{ with .A }}[{{ .B }}]{{ else }}none{{ end }}", { A: null }), "none");
  assert.equal(exec("{{ range $i, $v := .L }}{{ $i }}={{ $v }};{{ end }}", { L: ["a", "b"] }), "0=a;1=b;");
  assert.equal(exec("{{ range .L }}x{{ else }}empty{{ end }}", { L: [] }), "empty");
  assert.equal(exec('{{ range .L }}{{ if eq . "3" }}{{ break }}{{ end }}{{ if eq . "1" }}{{ continue }}{{ end }}{{ . }}{{ end }}', { L: ["0", "1", "2", "3", "4"] }), "02");
  // Maps range in sorted key order.
  assert.equal(exec("{{ range $k, $v := .M }}{{ $k }}:{{ $v }} {{ end }}", { M: { b: 2, a: 1, c: 3 } }), "a:1 b:2 c:3 ");
  assert.equal(exec("{{ range 3 }}{{ . }}{{ end }}"), "012");
  // Nested range and with: dot changes, $ stays the root.
  const nested = "{{ range .Outer }}{{ $o := .Name }}{{ range .Inner }}{{ with .V }}{{ $o }}.{{ . }}/{{ $.Sep }}{{ end }}{{ end }}{{ end }}";
  assert.equal(exec(nested, { Sep: "|", Outer: [{ Name: "a", Inner: [{ V: 1 }, { V: 0 }, { V: 2 }] }, { Name: "b", Inner: [{ V: 3 }] }] }), "a.1/|a.2/|b.3/|");
});

test("variables: declaration, assignment to an outer variable, scopes ending at end", () => {
  assert.equal(exec('{{ $x := "a" }}{{ if true }}{{ $x = "b" }}{{ end }}{{ $x }}'), "b");
  assert.equal(exec('{{ $x := "a" }}{{ if true }}{{ $x := "b" }}{{ $x }}{{ end }}{{ $x }}'), "ba");
  assert.equal(exec('{{ $s := "" }}{{ range .L }}{{ $s = printf "%s%s" $s . }}{{ end }}{{ $s }}', { L: ["x", "y", "z"] }), "xyz");
  assert.throws(() => parseTemplate("{{ if true }}{{ $y := 1 }}{{ end }}{{ $y }}"), /template: :1: undefined variable "\$y"/);
});

test("missing keys print <no value>; fields of missing values are execution errors", () => {
  assert.equal(exec("[{{ .Nope }}]"), "[<no value>]");
  assert.equal(exec("{{ if .Nope }}y{{ else }}n{{ end }}"), "n");
  assert.equal(exec("{{ print .Nope }}"), "<nil>");
  assert.throws(() => exec("{{ .Nope.Field }}"), (e: Error) => e instanceof TemplateError && /nil pointer evaluating interface \{\}\.Field/.test(e.message));
  const s = new GoStruct("T", new Map<string, GoValue>([["A", "a"]]), true);
  assert.throws(() => executeTemplate(parseTemplate("{{ .Msg.B }}{{ .Response }}"), new GoMap(new Map<string, GoValue>([["Msg", s], ["Response", ""]]))), /can't evaluate field B in type \*T/);
});

test("and/or return the deciding operand and short-circuit; comparisons follow Go's kinds", () => {
  assert.equal(exec('{{ or .A "dflt" }}|{{ and 1 0 2 }}|{{ and 1 2 }}|{{ or 0 "" }}', { A: "" }), "dflt|0|2|");
  // or stops before the missing field's error.
  assert.equal(exec('{{ or true .Nope.Field }}'), "true");
  assert.equal(exec("{{ eq 1 2 3 1 }}{{ ne 1 2 }}{{ lt 1 2 }}{{ le 2 2 }}{{ gt 1 2 }}{{ ge 2 1 }}"), "truetruetruetruefalsetrue");
  assert.equal(exec('{{ lt "a" "b" }} {{ eq .Nope "x" }}'), "true false");
  assert.throws(() => exec('{{ eq 1 "1" }}'), /error calling eq: incompatible types for comparison/);
  assert.throws(() => exec("{{ lt 1 1.5 }}"), /incompatible types for comparison/);
});

test("len, index, slice (bytes for strings), not, pipelines and parentheses", () => {
  assert.equal(exec('{{ len "héllo" }} {{ len .L }} {{ index .L 1 }} {{ index .M "k" }} {{ slice "abcdef" 1 3 }} {{ slice .L 1 }}', { L: [1, 2, 3], M: { k: "v" } }), "6 3 2 v bc [2 3]");
  assert.equal(exec("{{ $last := eq (len (slice .L 2)) 1 }}{{ $last }}", { L: [1, 2, 3] }), "true");
  assert.equal(exec('{{ "x" | printf "%s-%s" "a" }} {{ not 0 }} {{ .L | len }}', { L: [1] }), "a-x true 1");
  assert.throws(() => exec("{{ index .L 5 }}", { L: [1] }), /error calling index: index out of range: 5/);
});

test("printing and printf follow Go's fmt: ints, floats (%v shortest), %q, %d, padding, bad verbs", () => {
  assert.equal(exec("{{ .F }} {{ .G }} {{ .H }} {{ .I }} {{ 1.0 }} {{ 0.00001 }}", { F: 1e6, G: 0.7, H: 123456, I: 5 }), "1e+06 0.7 123456 5 1 1e-05");
  assert.equal(sprintf("%s|%d|%v|%q|%%|%5d|%-4s|%05.2f|%x", ["a", 42n, [1, 2], 'he said "hi"\n', 7n, "ab", 3.14159, "hi"].map((v) => (Array.isArray(v) ? new GoList(v as GoValue[]) : (v as GoValue)))), 'a|42|[1 2]|"he said \\"hi\\"\\n"|%|    7|ab  |03.14|6869');
  assert.equal(sprintf("%d %s", ["x"]), "%!d(string=x) %!s(MISSING)");
  assert.equal(sprintf("%s", ["a", 1n]), "a%!(EXTRA int=1)");
  assert.equal(exec('{{ print 1 2 "a" "b" 3 }}|{{ println "x" 1 }}|{{ printf "%v %v" true nil }}'), "1 2ab3|x 1\n|true <nil>");
  assert.equal(exec("{{ .L }} {{ .M }}", { L: ["a", 1], M: { b: true, a: [1] } }), "[a 1] map[a:[1] b:true]");
  assert.equal(exec('{{ html "<a href=\\"x\\">&</a>" }} {{ js "it\'s <b>" }} {{ urlquery "a b&c" }}'), "&lt;a href=&#34;x&#34;&gt;&amp;&lt;/a&gt; it\\'s \\u003Cb\\u003E a+b%26c");
});

test("define, template and block", () => {
  assert.equal(exec('{{ define "t" }}<{{ . }}>{{ end }}{{ template "t" .X }}{{ template "t" "y" }}', { X: "x" }), "<x><y>");
  assert.equal(exec('{{ block "b" .X }}[{{ . }}]{{ end }}', { X: "x" }), "[x]");
  assert.throws(() => exec('{{ template "nope" . }}'), /no such template "nope"/);
});

test("Ollama's functions: json (Go-JSON), dates, toTypeScriptType on tool properties", () => {
  assert.equal(exec("{{ json .V }}", { V: { b: "<&>", a: [1, 2.5, null] } }), '{"a":[1,2.5,null],"b":"\\u003c\\u0026\\u003e"}');
  assert.match(exec("{{ currentDate }} {{ yesterdayDate }}"), /^\d{4}-\d\d-\d\d \d{4}-\d\d-\d\d$/);
  const tpl =
    "{{- range .Messages }}{{ end }}{{ range .Tools }}{{ range $n, $p := .Function.Parameters.Properties }}{{ $n }}: {{ toTypeScriptType $p }}; {{ end }}{{ end }}";
  const tools = [{
    type: "function",
    function: {
      name: "f",
      parameters: {
        type: "object",
        properties: {
          s: { type: "string" }, n: { type: "integer" }, u: { anyOf: [{ type: "string" }, { type: "null" }] },
          m: { type: ["number", "boolean"] }, a: { type: "array" }, o: { type: "object" }, x: {},
        },
      },
    },
  }];
  assert.equal(renderPrompt(tpl, { messages: [], tools }), "a: any[]; m: number | boolean; n: number; o: Record<string, any>; s: string; u: string | null; x: any; ");
});

test("tools, functions and arguments print as Go-JSON with sorted keys", () => {
  const tools = [{
    type: "function",
    function: {
      name: "get_weather",
      description: "Weather <now>",
      parameters: { type: "object", required: ["city"], properties: { unit: { type: "string", enum: ["c", "f"] }, city: { type: "string", description: "City" } } },
    },
  }];
  const fn = '{"name":"get_weather","description":"Weather \\u003cnow\\u003e","parameters":{"type":"object","required":["city"],"properties":{"city":{"type":"string","description":"City"},"unit":{"type":"string","enum":["c","f"]}}}}';
  const tool = `{"type":"function","function":${fn}}`;
  const messages = [
    { role: "user", content: "hi" },
    { role: "assistant", content: "", tool_calls: [{ function: { name: "get_weather", arguments: { z: 1, city: "Paris" } } }] },
    { role: "tool", content: "sunny", tool_name: "get_weather" },
  ];
  const tpl =
    "{{ .Tools }}\n{{ json .Tools }}\n{{ range .Tools }}{{ . }}\n{{ .Function }}\n{{ .Function.Parameters.Properties }}\n{{ end }}" +
    "{{ range .Messages }}{{ range .ToolCalls }}{{ .Function.Name }}{{ .Function.Arguments }}{{ json .Function.Arguments }}{{ range $k, $v := .Function.Arguments }} {{ $k }}={{ $v }}{{ end }}{{ end }}{{ if eq .Role \"tool\" }} {{ .ToolName }}:{{ .Content }}{{ end }}{{ end }}";
  const out = renderPrompt(tpl, { messages, tools });
  const props = '{"city":{"type":"string","description":"City"},"unit":{"type":"string","enum":["c","f"]}}';
  assert.equal(out, `[${tool}]\n[${tool}]\n${tool}\n${fn}\n${props}\n` + 'get_weather{"city":"Paris","z":1}{"city":"Paris","z":1} city=Paris z=1 get_weather:sunny');
  // Without tools .Tools is nil: false in if, "null" when printed.
  assert.equal(renderPrompt("{{ if .Tools }}T{{ else }}F{{ end }}{{ .Tools }}{{ range .Messages }}{{ end }}", { messages: [] }), "Fnull");
});

test("parse errors carry Go's text and line; Ollama's own refusals", () => {
  const cases: [string, string][] = [
    ["{{ .X ", "template: :1: unclosed action"],
    ["a\n{{ if .X }}b", "template: :2: unexpected EOF"],
    ["{{ end }}", "template: :1: unexpected {{end}}"],
    ["{{ nope 1 }}", 'template: :1: function "nope" not defined'],
    ["{{ if }}{{ end }}", "template: :1: missing value for if"],
    ["{{ $x }}", 'template: :1: undefined variable "$x"'],
    ["x\n\n{{ .A | 3 }}", "template: :3: non executable command in pipeline stage 2"],
    ["{{ break }}", "template: :1: {{break}} outside {{range}}"],
    ["{{ /* c */ }}", "template: :1: unexpected \"/\" in command"],
    ['{{ "abc }}', "template: :1: unterminated quoted string"],
    ["{{ .A ) }}", "template: :1: unexpected right paren"],
    ['{{ template "x" }}', "undefined template specified"],
  ];
  for (const [src, msg] of cases) assert.throws(() => parseTemplate(src), (e: Error) => e instanceof TemplateError && e.message === msg, src);
});

test("legacy templates run turn by turn and cut everything after .Response on the last turn", () => {
  const t = "{{ if .System }}S:{{ .System }}|{{ end }}{{ if .Prompt }}U:{{ .Prompt }}|{{ end }}A:{{ .Response }}<eot>";
  const messages = [
    { role: "system", content: "sys" },
    { role: "user", content: "hi" },
    { role: "assistant", content: "hello" },
    { role: "user", content: "bye" },
  ];
  assert.equal(renderPrompt(t, { messages }), "S:sys|U:hi|A:hello<eot>U:bye|A:");
  // A trailing assistant message is a prefill the model continues.
  assert.equal(renderPrompt(t, { messages: [...messages, { role: "assistant", content: "Sure" }] }), "S:sys|U:hi|A:hello<eot>U:bye|A:Sure");
  // Without .Response, it is appended: {{ .Prompt }} becomes {{ .Prompt }}{{ .Response }}.
  assert.equal(renderPrompt("{{ .Prompt }}", { messages: messages.slice(1) }), "hihellobye");
  // Messages mode has no .Prompt: it prints <no value>.
  assert.equal(renderPrompt("{{ if .Messages }}{{ range .Messages }}{{ .Content }};{{ end }}{{ else }}{{ .Prompt }}{{ end }}{{ .Prompt }}", { messages: messages.slice(1, 2) }), "hi;<no value>");
});

test("collation: same-role neighbours merge, tool messages never; system messages join into .System", () => {
  const t = "{{ .System }}#{{ range .Messages }}{{ .Role }}={{ .Content }};{{ end }}";
  const out = renderPrompt(t, {
    messages: [
      { role: "system", content: "a" }, { role: "system", content: "b" }, { role: "user", content: "u1" }, { role: "user", content: "u2" },
      { role: "tool", content: "t1" }, { role: "tool", content: "t2" }, { role: "system", content: "c" },
    ],
  });
  assert.equal(out, "a\n\nb\n\nc#system=a\n\nb;user=u1\n\nu2;tool=t1;tool=t2;system=c;");
  // The request system is used like a model SYSTEM: only when the messages do not start with one.
  assert.equal(renderPrompt(t, { system: "S", messages: [{ role: "user", content: "u" }] }), "S#system=S;user=u;");
});

test("suffix mode and think values", () => {
  assert.equal(renderPrompt("<PRE> {{ .Prompt }} <SUF>{{ .Suffix }} <MID>", { prompt: "def f():", suffix: "return 1" }), "<PRE> def f(): <SUF>return 1 <MID>");
  const t = "{{ range .Messages }}{{ if .Thinking }}<think>{{ .Thinking }}</think>{{ end }}{{ .Content }}{{ end }}|{{ .Think }} {{ .ThinkLevel }} {{ .IsThinkSet }}";
  const m = [{ role: "user", content: "q" }];
  // A thinking template defaults to think:true, which is level "medium".
  assert.equal(renderPrompt(t, { messages: m }), "q|true medium true");
  assert.equal(renderPrompt(t, { messages: m, think: false }), "q|false  true");
  assert.equal(renderPrompt(t, { messages: m, think: "low" }), "q|true low true");
  assert.throws(() => renderPrompt("{{ .Prompt }}", { messages: m, think: true }), /does not support thinking/);
});
