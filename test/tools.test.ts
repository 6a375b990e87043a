// Tools over HTTP with the real stories260K model: .Tools rendering, tool results rendered back,
// the capability check, and tool calls parsed from generated text. stories260K never writes a tool
// call by itself, so calls are forced with a JSON schema `format` (the template's tag is a bare
// `{`), and the tag path is shown with a tag the model does write ("Lily").
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { Ajv } from "ajv";
import { callSchema, JSON_CALLS, weather } from "./support/tools.js";
import { createFromGguf, ndjson, post, postJson, startTestServer, STORIES, type TestServer } from "./support/server.js";

// A tag the story model writes on its own, to show what happens after a tool-call tag.
const LILY_TAG =
  '{{ range .Messages }}{{ if .ToolCalls }}Lily{{ range .ToolCalls }}{{ .Function.Name }}{{ end }}{{ end }}{{ .Content }}{{ end }}{{ if .Tools }}{{ end }}';


let srv: TestServer;
before(async () => {
  srv = await startTestServer();
  await createFromGguf(srv.url, "stories", STORIES);
  await createFromGguf(srv.url, "tooly", STORIES, { template: JSON_CALLS });
  await createFromGguf(srv.url, "lily-tools", STORIES, { template: LILY_TAG });
});
after(() => srv.stop());

test("tools render through .Tools; tool calls and tool results render back", async () => {
  const res = await postJson(srv.url, "/api/chat", {
    model: "tooly",
    stream: false,
    _debug_render_only: true,
    tools: [weather],
    messages: [
      { role: "user", content: "Weather in Paris?" },
      { role: "assistant", content: "", tool_calls: [{ function: { name: "get_weather", arguments: { city: "Paris" } } }] },
      { role: "tool", content: "sunny", tool_name: "get_weather" },
      { role: "user", content: "Thanks" },
    ],
  });
  assert.equal(res.status, 200, res.text);
  assert.equal(
    res.json._debug_info.rendered_template,
    'U: Weather in Paris?\nA: {"name": "get_weather", "parameters": {"city":"Paris"}}\nT(get_weather): sunny\n' +
      'Tools: {"type":"function","function":{"name":"get_weather","description":"Get the weather","parameters":{"type":"object","required":["city"],"properties":{"city":{"type":"string","description":"The city"}}}}} U: Thanks\nA:',
  );
});

test("a template without .Tools refuses tools; show lists the tools capability", async () => {
  const res = await postJson(srv.url, "/api/chat", { model: "stories", tools: [weather], messages: [{ role: "user", content: "x" }] });
  assert.deepEqual([res.status, res.json], [400, { error: "registry.ollama.ai/library/stories:latest does not support tools" }]);
  const show = await postJson(srv.url, "/api/show", { model: "tooly" });
  assert.deepEqual(show.json.capabilities, ["completion", "tools"]);
  const tags = await postJson(srv.url, "/api/tags", undefined, "GET");
  const caps = Object.fromEntries(tags.json.models.map((m: { name: string; capabilities: string[] }) => [m.name, m.capabilities]));
  assert.deepEqual(caps["tooly:latest"], ["completion", "tools"]);
  assert.deepEqual(caps["stories:latest"], ["completion"]);
});


test("a JSON tool call in the output becomes message.tool_calls (non-streaming), with format and tools together", async () => {
  const res = await postJson(srv.url, "/api/chat", {
    model: "tooly",
    stream: false,
    tools: [weather],
    format: callSchema,
    messages: [{ role: "user", content: "Weather?" }],
    options: { temperature: 0, num_predict: 200 },
  });
  assert.equal(res.status, 200, res.text);
  const msg = res.json.message;
  assert.equal(msg.content, "");
  assert.equal(msg.tool_calls.length, 1);
  const call = msg.tool_calls[0];
  assert.match(call.id, /^call_[a-z0-9]{8}$/);
  assert.equal(call.function.index, 0);
  assert.equal(call.function.name, "get_weather");
  assert.ok(["Paris", "Rome"].includes(call.function.arguments.city), JSON.stringify(call));
  // The arguments validate against the tool's own parameter schema.
  assert.ok(new Ajv().validate(weather.function.parameters, call.function.arguments));
});

test("streaming: the tool call arrives in one chunk with empty content; the final chunk ends the stream", async () => {
  const res = await post(srv.url, "/api/chat", {
    model: "tooly",
    tools: [weather],
    format: callSchema,
    messages: [{ role: "user", content: "Weather?" }],
    options: { temperature: 0, num_predict: 200 },
  });
  const lines = await ndjson(res);
  const withCalls = lines.filter((l) => l.message.tool_calls);
  assert.equal(withCalls.length, 1, JSON.stringify(lines));
  assert.equal(withCalls[0].message.content, "");
  assert.equal(withCalls[0].message.tool_calls[0].function.name, "get_weather");
  assert.equal(lines.map((l) => l.message.content).join(""), "");
  assert.equal(lines.at(-1).done, true);
});

test("without tools in the request, the same JSON is plain content", async () => {
  const res = await postJson(srv.url, "/api/chat", {
    model: "tooly", stream: false, format: callSchema, messages: [{ role: "user", content: "Weather?" }], options: { temperature: 0, num_predict: 200 },
  });
  assert.equal(res.json.message.tool_calls, undefined);
  assert.equal(JSON.parse(res.json.message.content).name, "get_weather");
});

test("after the template's tool-call tag, output is withheld; text before it streams as content", async () => {
  // Greedy stories260K: ", there was a little girl named Lily. She loved to play ..."; the tag here is "Lily".
  const body = {
    model: "lily-tools",
    tools: [{ type: "function", function: { name: "play", parameters: { type: "object", properties: {} } } }],
    messages: [{ role: "user", content: "Once upon a time" }],
    options: { temperature: 0, num_predict: 24 },
  };
  const lines = await ndjson(await post(srv.url, "/api/chat", body));
  assert.equal(lines.map((l) => l.message.content).join(""), ", there was a little girl named ");
  // "play" appears after the tag but without a JSON object: no call.
  assert.equal(lines.some((l) => l.message.tool_calls), false);
  const single = await postJson(srv.url, "/api/chat", { ...body, stream: false });
  assert.equal(single.json.message.content, ", there was a little girl named ");
  assert.equal(single.json.eval_count, 24);
});
