// POST /v1/responses driven by the official `openai` SDK (responses.create and responses.stream),
// against stories260K through the real engine.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import OpenAI from "openai";
import { NO_VISION_MESSAGE, RUNNER_STOPPED_MESSAGE } from "../src/runner/protocol.js";
import { createFromGguf, post, postJson, startTestServer, STORIES, type TestServer } from "./support/server.js";
import { callSchema, JSON_CALLS } from "./support/tools.js";

let srv: TestServer;
let openai: OpenAI;
before(async () => {
  srv = await startTestServer();
  openai = new OpenAI({ baseURL: `${srv.url}/v1`, apiKey: "ollama", maxRetries: 0 });
  await createFromGguf(srv.url, "stories", STORIES);
});
after(() => srv.stop());

type APIError = InstanceType<typeof OpenAI.APIError>;
const greedy = { model: "stories", temperature: 0 } as const;

test("string input: one assistant message, usage, and the settings echoed back", async () => {
  const res = await openai.responses.create({ ...greedy, input: "Once upon a time", max_output_tokens: 10 });
  assert.equal(res.object, "response");
  assert.match(res.id, /^resp_/);
  assert.equal(res.status, "completed");
  assert.equal(res.model, "stories");
  assert.equal(res.output.length, 1);
  const msg = res.output[0]!;
  assert.equal(msg.type, "message");
  if (msg.type !== "message") return;
  assert.equal(msg.role, "assistant");
  assert.match(msg.id, /^msg_/);
  assert.equal(msg.content[0]!.type, "output_text");
  assert.equal(res.output_text, ", there was a little girl named Lily");
  assert.equal(res.usage!.input_tokens, 5);
  assert.equal(res.usage!.output_tokens, 10);
  assert.equal(res.usage!.total_tokens, 15);
  assert.equal(res.max_output_tokens, 10);
  assert.equal(res.temperature, 0);
  assert.equal((res as unknown as { store: boolean }).store, false);
  assert.deepEqual(res.text, { format: { type: "text" } });
  assert.ok(typeof res.created_at === "number" && res.created_at > 1_600_000_000);
});

test("items input and instructions render as system, user and assistant turns", async () => {
  await createFromGguf(srv.url, "roles", STORIES, { template: "{{ range .Messages }}<{{ .Role }}>{{ .Content }}\n{{ end }}" });
  const render = await postJson(srv.url, "/v1/responses", {
    model: "roles",
    _debug_render_only: true,
    instructions: "Tell a story.",
    input: [
      { type: "message", role: "user", content: [{ type: "input_text", text: "Once upon " }, { type: "input_text", text: "a time" }] },
      { type: "message", role: "assistant", content: [{ type: "output_text", text: "there was a cat." }] },
      { role: "user", content: "And then?" },
    ],
  });
  assert.equal(render.status, 200, render.text);
  assert.equal(
    render.json._debug_info.rendered_template,
    "<system>Tell a story.\n<user>Once upon a time\n<assistant>there was a cat.\n<user>And then?\n",
  );
  // input_image parts carry base64 data URLs through as the message's images: a text-only model
  // refuses them with Ollama's message (the images themselves are tested in vision.test.ts).
  const image = (url: string) =>
    postJson(srv.url, "/v1/responses", {
      model: "stories",
      _debug_render_only: true,
      input: [{ role: "user", content: [{ type: "input_text", text: "Look" }, { type: "input_image", detail: "auto", image_url: url }] }],
    });
  const withImage = await image("data:image/png;base64,iVBORw0KGgo=");
  assert.equal(withImage.status, 400, withImage.text);
  assert.equal(withImage.json.error.message, NO_VISION_MESSAGE);
  assert.deepEqual([(await image("data:image/png;base64,!!")).json.error.message], ["invalid image input"]);
  // The same conversation generates through the SDK, the items typed as OpenAI defines them.
  const res = await openai.responses.create({
    ...greedy,
    instructions: "Tell a story.",
    input: [
      { type: "message", role: "user", content: [{ type: "input_text", text: "Once upon a time" }] },
      { role: "user", content: "there was" },
    ],
    max_output_tokens: 6,
  });
  assert.equal(res.instructions, "Tell a story.");
  assert.equal(res.usage!.output_tokens, 6);
  assert.ok(res.output_text.length > 0);
  // Instructions reach the prompt the model reads.
  const bare = await openai.responses.create({ ...greedy, model: "roles", input: "Once upon a time", max_output_tokens: 1 });
  const told = await openai.responses.create({ ...greedy, model: "roles", instructions: "Tell a story.", input: "Once upon a time", max_output_tokens: 1 });
  assert.ok(told.usage!.input_tokens > bare.usage!.input_tokens);
});

test("streaming: events in OpenAI's order with increasing sequence numbers; text equals the non-streamed text", async () => {
  const whole = await openai.responses.create({ ...greedy, input: "Once upon a time", max_output_tokens: 16 });
  const stream = openai.responses.stream({ ...greedy, input: "Once upon a time", max_output_tokens: 16 });
  const types: string[] = [];
  const seqs: number[] = [];
  let deltas = "";
  let doneText: string | undefined;
  for await (const e of stream) {
    types.push(e.type);
    seqs.push(e.sequence_number);
    if (e.type === "response.output_text.delta") deltas += e.delta;
    if (e.type === "response.output_text.done") doneText = e.text;
  }
  const final = await stream.finalResponse();
  assert.deepEqual(seqs, types.map((_, i) => i));
  const collapsed = types.filter((t, i) => t !== types[i - 1]);
  assert.deepEqual(collapsed, [
    "response.created",
    "response.in_progress",
    "response.output_item.added",
    "response.content_part.added",
    "response.output_text.delta",
    "response.output_text.done",
    "response.content_part.done",
    "response.output_item.done",
    "response.completed",
  ]);
  assert.ok(types.filter((t) => t === "response.output_text.delta").length > 1, "text arrives in several deltas");
  assert.equal(deltas, whole.output_text);
  assert.equal(doneText, whole.output_text);
  assert.equal(final.status, "completed");
  assert.deepEqual(final.usage, whole.usage);
  const item = final.output[0]!;
  assert.ok(item.type === "message" && item.content[0]!.type === "output_text" && item.content[0]!.text === whole.output_text);
});

test("text.format json_schema gives JSON that follows the schema; json_object gives JSON", async () => {
  const schema = {
    type: "object",
    properties: { name: { type: "string", enum: ["Lily", "Tom"] }, age: { type: "integer" } },
    required: ["name", "age"],
    additionalProperties: false,
  };
  const res = await openai.responses.create({
    ...greedy,
    input: "Once upon a time",
    max_output_tokens: 60,
    text: { format: { type: "json_schema", name: "person", schema, strict: true } },
  });
  const value = JSON.parse(res.output_text) as { name: string; age: number };
  assert.ok(["Lily", "Tom"].includes(value.name));
  assert.ok(Number.isInteger(value.age));
  assert.equal(res.text!.format!.type, "json_schema");
  // json_object is Ollama's "json": the grammar opens an object (stories260K rambles too long to close it).
  const obj = await openai.responses.create({ ...greedy, input: "Once upon a time", max_output_tokens: 12, text: { format: { type: "json_object" } } });
  assert.match(obj.output_text, /^\s*\{\s*"/);
  const free = await openai.responses.create({ ...greedy, input: "Once upon a time", max_output_tokens: 12 });
  assert.doesNotMatch(free.output_text, /^\s*\{/);
});

test("function tools: a call comes back as a function_call item, and its output goes back in", async () => {
  await createFromGguf(srv.url, "tooly", STORIES, { template: JSON_CALLS });
  const tools: OpenAI.Responses.FunctionTool[] = [
    {
      type: "function",
      name: "get_weather",
      description: "Get the weather",
      strict: false,
      parameters: { type: "object", required: ["city"], properties: { city: { type: "string", description: "The city" } } },
    },
  ];
  const ask = { model: "tooly", temperature: 0, tools, text: { format: { type: "json_schema" as const, name: "call", schema: callSchema } } };
  const res = await openai.responses.create({ ...ask, input: "Weather?" });
  const calls = res.output.filter((o) => o.type === "function_call");
  assert.equal(calls.length, 1);
  assert.equal(res.output.filter((o) => o.type === "message").length, 0);
  const call = calls[0]!;
  if (call.type !== "function_call") return;
  assert.equal(call.name, "get_weather");
  assert.match(call.call_id, /^call_/);
  assert.match(call.id!, /^fc_/);
  const city = (JSON.parse(call.arguments) as { city: string }).city;
  assert.ok(["Paris", "Rome"].includes(city));
  assert.equal((res.tools[0] as { name: string }).name, "get_weather");

  // Streamed: the call is an output item with its arguments in the function-call events.
  const stream = openai.responses.stream({ ...ask, input: "Weather?" });
  const types: string[] = [];
  let args = "";
  for await (const e of stream) {
    types.push(e.type);
    if (e.type === "response.function_call_arguments.done") args = e.arguments;
  }
  const final = await stream.finalResponse();
  assert.deepEqual(types.slice(2, 6), [
    "response.output_item.added",
    "response.function_call_arguments.delta",
    "response.function_call_arguments.done",
    "response.output_item.done",
  ]);
  assert.equal(args, call.arguments);
  assert.deepEqual(final.output.map((o) => o.type), ["function_call"]);

  // The round trip: the call item as it came back, then its output; the tool result is named by its call.
  const input: OpenAI.Responses.ResponseInput = [
    { role: "user", content: "Weather?" },
    ...res.output.map((o) => o as OpenAI.Responses.ResponseFunctionToolCall),
    { type: "function_call_output", call_id: call.call_id, output: "sunny" },
  ];
  const render = await postJson(srv.url, "/v1/responses", { model: "tooly", tools, input, _debug_render_only: true });
  assert.equal(render.status, 200, render.text);
  assert.equal(
    render.json._debug_info.rendered_template,
    `U: Weather?\nA: {"name": "get_weather", "parameters": {"city":"${city}"}}\nT(get_weather): sunny\nA:`,
  );
  // An assistant message replayed between a call and its output stays in the calling turn.
  const replay = await postJson(srv.url, "/v1/responses", {
    model: "tooly",
    _debug_render_only: true,
    input: [input[0], input[1], { role: "assistant", content: [{ type: "output_text", text: "Checking." }] }, input[2]],
  });
  assert.equal(replay.json._debug_info.rendered_template, render.json._debug_info.rendered_template);
  // A namespace's member functions are declared as `<namespace>.<name>`.
  const ns = await postJson(srv.url, "/v1/responses", {
    model: "tooly",
    _debug_render_only: true,
    input: "Weather?",
    tools: [{ type: "namespace", name: "meteo", tools: [{ type: "function", name: "today", parameters: { type: "object" } }] }],
  });
  assert.match(ns.json._debug_info.rendered_template, /^Tools: \{"type":"function","function":\{"name":"meteo\.today",/);
  const answer = await openai.responses.create({ model: "tooly", temperature: 0, tools, input, max_output_tokens: 8 });
  assert.equal(answer.status, "completed");
  assert.deepEqual(answer.output.map((o) => o.type), ["message"]);
});

test("reasoning: thinking comes back as a reasoning item with a summary, streamed in its own events", async () => {
  // Thinking tags "time" and "Lily": the greedy story splits into thinking and content (see thinking.test.ts).
  await createFromGguf(srv.url, "thinker", STORIES, { template: "{{ range .Messages }}{{ if .Thinking }}time{{ .Thinking }}Lily{{ end }}{{ .Content }}{{ end }}" });
  const ask = { model: "thinker", temperature: 0, input: "Once upon a time", max_output_tokens: 24 };
  const res = await openai.responses.create({ ...ask, reasoning: { effort: "high", summary: "auto" } });
  assert.deepEqual(res.output.map((o) => o.type), ["reasoning", "message"]);
  const reasoning = res.output[0]!;
  if (reasoning.type !== "reasoning") return;
  assert.match(reasoning.id, /^rs_/);
  assert.deepEqual(reasoning.summary, [{ type: "summary_text", text: ", there was a little girl named " }]);
  assert.ok(res.output_text.startsWith(". She loved"), res.output_text);
  assert.deepEqual(res.reasoning, { effort: "high", summary: "auto" });

  const stream = openai.responses.stream({ ...ask, reasoning: { effort: "high" } });
  const types: string[] = [];
  let thinking = "";
  for await (const e of stream) {
    types.push(e.type);
    if (e.type === "response.reasoning_summary_text.delta") thinking += e.delta;
  }
  const final = await stream.finalResponse();
  assert.equal(thinking, reasoning.summary[0]!.text);
  const collapsed = types.filter((t, i) => t !== types[i - 1]);
  assert.deepEqual(collapsed.slice(0, 9), [
    "response.created",
    "response.in_progress",
    "response.output_item.added",
    "response.reasoning_summary_part.added",
    "response.reasoning_summary_text.delta",
    "response.reasoning_summary_text.done",
    "response.reasoning_summary_part.done",
    "response.output_item.done",
    "response.output_item.added",
  ]);
  assert.deepEqual(final.output.map((o) => o.type), ["reasoning", "message"]);
  const msg = final.output[1]!;
  assert.ok(msg.type === "message" && msg.content[0]!.type === "output_text" && msg.content[0]!.text === res.output_text);

  // The reasoning item handed back is the thinking of the assistant turn that follows it.
  const render = await postJson(srv.url, "/v1/responses", {
    model: "thinker",
    _debug_render_only: true,
    input: [
      { role: "user", content: "Q" },
      { type: "reasoning", id: "rs_1", summary: [], encrypted_content: "hmm" },
      { role: "assistant", content: [{ type: "output_text", text: "A" }] },
    ],
  });
  assert.equal(render.json._debug_info.rendered_template, "QtimehmmLilyA");

  const none = await openai.responses.create({ model: "stories", input: "Once", max_output_tokens: 2, reasoning: { effort: "none" } });
  assert.equal(none.status, "completed");
});

test("errors: a missing model is a 404 in OpenAI's shape; bad input is a 400 with Ollama's message", async () => {
  await assert.rejects(openai.responses.create({ model: "nope", input: "hi" }), (e: APIError) => {
    assert.equal(e.status, 404);
    assert.deepEqual(e.error, { message: "model 'nope' not found", type: "not_found_error", param: null, code: null });
    return true;
  });
  // Streaming fails the same way, before any event.
  await assert.rejects(
    (async () => {
      for await (const _ of openai.responses.stream({ model: "nope", input: "hi" })) void _;
    })(),
    (e: APIError) => e.status === 404,
  );
  const cases: [unknown, string | RegExp][] = [
    [{ input: 5 }, "input must be a string or array: json: cannot unmarshal number into Go value of type []json.RawMessage"],
    [{ input: [{ content: "hi" }] }, "input[0]: input item missing required 'type' field"],
    [{ input: [{ type: "computer_call" }] }, 'input[0]: unknown input item type: "computer_call"'],
    [{ input: [{ role: "user", content: [{ type: "video" }] }] }, "input[0]: content[0]: unknown content type: video"],
    [{ input: [{ role: "user", content: [{ type: "input_file", file_id: "f" }] }] }, "file inputs are not currently supported"],
    [{ input: [{ role: "user", content: [{ type: "input_image", image_url: "https://x/y.png" }] }] }, "image URLs are not currently supported, please use base64 encoded data instead"],
    [{ input: [{ type: "function_call", call_id: "c", name: "f", arguments: "{oops" }] }, /^failed to parse function call arguments: /],
    [{ input: "hi", model: 7 }, "json: cannot unmarshal number into Go struct field ResponsesRequest.model of type string"],
    [{ input: "hi", max_output_tokens: "many" }, "json: cannot unmarshal string into Go struct field ResponsesRequest.max_output_tokens of type int"],
    [{ input: "hi", reasoning: { effort: "extreme" } }, /^invalid reasoning value: "extreme"/],
    [{ input: "hi", previous_response_id: "resp_1" }, /^previous_response_id is not supported/],
    [{ input: "hi", tools: [{ type: "web_search" }] }, "the web_search tool is not supported by this server"],
  ];
  for (const [body, message] of cases) {
    const res = await postJson(srv.url, "/v1/responses", { model: "stories", ...(body as object) });
    assert.equal(res.status, 400, JSON.stringify(body));
    assert.equal(res.json.error.type, "invalid_request_error");
    if (typeof message === "string") assert.equal(res.json.error.message, message);
    else assert.match(res.json.error.message, message);
  }
  // The SDK surfaces them as BadRequestError.
  await assert.rejects(
    openai.responses.create({ model: "stories", input: "hi", previous_response_id: "resp_1" }),
    (e: APIError) => e.status === 400,
  );
});

/** SSE events of a streaming response, read as they come; `onEvent` may act mid-stream. */
async function readEvents(body: unknown, onEvent: (e: { type: string; [k: string]: unknown }) => void) {
  const res = await post(srv.url, "/v1/responses", body);
  assert.equal(res.status, 200);
  assert.match(res.headers.get("content-type")!, /^text\/event-stream/);
  const decoder = new TextDecoder();
  let buf = "";
  const events: { type: string; [k: string]: unknown }[] = [];
  for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
    buf += decoder.decode(chunk, { stream: true });
    for (let i = buf.indexOf("\n\n"); i >= 0; i = buf.indexOf("\n\n")) {
      const [eventLine, dataLine] = buf.slice(0, i).split("\n");
      buf = buf.slice(i + 2);
      const e = JSON.parse(dataLine!.slice("data: ".length));
      assert.equal(eventLine, `event: ${e.type}`);
      events.push(e);
      onEvent(e);
    }
  }
  return events;
}

test("a runner that dies mid-stream ends the stream with response.failed; the next request works", async () => {
  let killed = false;
  const events = await readEvents({ model: "stories", input: "Once upon a time", stream: true, max_output_tokens: 4000 }, (e) => {
    if (killed || e.type !== "response.output_text.delta") return;
    killed = true;
    // The runner processes are the server's children.
    const runners = execFileSync("pgrep", ["-P", String(srv.proc.pid)]).toString().trim().split("\n").map(Number);
    for (const pid of runners) process.kill(pid, "SIGKILL");
  });
  const last = events.at(-1)!;
  assert.equal(last.type, "response.failed", events.map((e) => e.type).join(","));
  const response = last.response as { status: string; error: { code: string; message: string } };
  assert.equal(response.status, "failed");
  assert.equal(response.error.code, "server_error");
  assert.equal(response.error.message, RUNNER_STOPPED_MESSAGE);
  assert.deepEqual(events.map((e) => e.sequence_number), events.map((_, i) => i));
  const again = await openai.responses.create({ ...greedy, input: "Once upon a time", max_output_tokens: 3 });
  assert.equal(again.usage!.output_tokens, 3);
});
