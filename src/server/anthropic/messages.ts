// /v1/messages: an Anthropic Messages request becomes a native chat request; the native answer
// becomes a message with content blocks, or the Messages API's SSE events.
import { randomBytes } from "node:crypto";
import { badRequest } from "../../api/errors.js";
import type { AnthropicBlock, MessagesRequest } from "../../api/anthropic.js";
import { decodeChatRequest, type ChatRequest, type ChatResponse, type Message, type ToolCall } from "../../api/inference.js";

function textOf(content: string | AnthropicBlock[] | undefined): string {
  if (typeof content === "string") return content;
  return (content ?? []).filter((b) => b.type === "text").map((b) => b.text ?? "").join("");
}

function image(block: AnthropicBlock): string {
  if (block.source?.type !== "base64") {
    throw badRequest(`invalid image source type: ${block.source?.type ?? ""}. Only base64 images are supported.`);
  }
  return block.source.data ?? "";
}

/** One Anthropic turn -> native messages: tool results first (as `tool` messages), then the turn itself. */
function turn(role: string, content: string | AnthropicBlock[] | undefined): Message[] {
  if (typeof content === "string") return [{ role, content }];
  const results: Message[] = [];
  const msg: Message = { role, content: "" };
  const images: string[] = [];
  const calls: ToolCall[] = [];
  for (const block of content ?? []) {
    switch (block.type) {
      case "text":
        msg.content += block.text ?? "";
        break;
      case "image":
        images.push(image(block));
        break;
      case "thinking":
        msg.thinking = (msg.thinking ?? "") + (block.thinking ?? "");
        break;
      case "tool_use":
        if (!block.id || !block.name) throw badRequest("tool_use block requires an id and a name");
        calls.push({ id: block.id, function: { index: calls.length, name: block.name, arguments: block.input ?? {} } });
        break;
      case "tool_result": {
        const blocks = typeof block.content === "string" ? undefined : block.content;
        results.push({
          role: "tool",
          content: textOf(block.content),
          tool_call_id: block.tool_use_id,
          ...(blocks?.some((b) => b.type === "image") ? { images: blocks.filter((b) => b.type === "image").map(image) } : {}),
        });
        break;
      }
      // Other blocks (web search history, ...) carry nothing a local model uses.
    }
  }
  if (images.length) msg.images = images;
  if (calls.length) msg.tool_calls = calls;
  const hasTurn = msg.content || images.length || calls.length || msg.thinking;
  return hasTurn ? [...results, msg] : results;
}

export function toNativeChat(r: MessagesRequest): ChatRequest {
  if (!r.model) throw badRequest("model is required");
  if (!r.max_tokens || r.max_tokens <= 0) throw badRequest("max_tokens is required and must be positive");
  if (!r.messages?.length) throw badRequest("messages is required");
  const messages: Message[] = [];
  const system = textOf(r.system);
  if (system) messages.push({ role: "system", content: system });
  for (const m of r.messages) messages.push(...turn(m.role ?? "user", m.content));
  // Tool names for tool results come from the call they answer.
  for (const m of messages) {
    if (m.role !== "tool" || !m.tool_call_id) continue;
    const call = messages.flatMap((x) => x.tool_calls ?? []).find((c) => c.id === m.tool_call_id);
    if (call) m.tool_name = call.function.name;
  }
  const effort = r.output_config?.effort;
  const think =
    r.thinking?.type === "enabled" ? true : r.thinking?.type === "disabled" ? false : effort ? (effort === "xhigh" ? "high" : effort) : undefined;
  const options: Record<string, unknown> = { num_predict: r.max_tokens };
  if (r.temperature !== undefined) options.temperature = r.temperature;
  if (r.top_p !== undefined) options.top_p = r.top_p;
  if (r.top_k !== undefined) options.top_k = r.top_k;
  if (r.stop_sequences?.length) options.stop = r.stop_sequences;
  return decodeChatRequest({
    model: r.model,
    messages,
    stream: r.stream ?? false,
    think,
    options,
    tools: r.tools
      ?.filter((t) => !t.type?.startsWith("web_search"))
      .map((t) => ({ type: "function", function: { name: t.name, description: t.description, parameters: t.input_schema } })),
  });
}

export function messageId(): string {
  return `msg_${randomBytes(12).toString("hex")}`;
}

function stopReason(doneReason: string | undefined, toolCalls: boolean): string {
  if (toolCalls) return "tool_use";
  if (doneReason === "stop") return "end_turn";
  if (doneReason === "length") return "max_tokens";
  return "stop_sequence";
}

function toolUse(tc: ToolCall) {
  return { type: "tool_use", id: tc.id ?? `toolu_${randomBytes(12).toString("hex")}`, name: tc.function.name, input: tc.function.arguments ?? {} };
}

export function toMessage(native: ChatResponse, id: string, model: string) {
  const calls = native.message.tool_calls ?? [];
  return {
    id,
    type: "message",
    role: "assistant",
    model,
    content: [
      ...(native.message.thinking ? [{ type: "thinking", thinking: native.message.thinking, signature: "" }] : []),
      ...(native.message.content ? [{ type: "text", text: native.message.content }] : []),
      ...calls.map(toolUse),
    ],
    stop_reason: stopReason(native.done_reason, calls.length > 0),
    stop_sequence: null,
    usage: { input_tokens: native.prompt_eval_count ?? 0, output_tokens: native.eval_count ?? 0 },
  };
}

export interface SseEvent {
  event: string;
  data: Record<string, unknown>;
}

/** Native chunks -> Messages API events: message_start, content blocks (start/delta/stop), message_delta, message_stop. */
export async function* toMessageEvents(native: AsyncIterable<ChatResponse>, id: string, model: string): AsyncGenerator<SseEvent> {
  const ev = (event: string, data: Record<string, unknown>): SseEvent => ({ event, data: { type: event, ...data } });
  yield ev("message_start", {
    message: { id, type: "message", role: "assistant", model, content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: 0, output_tokens: 0 } },
  });
  let index = -1;
  let open: "thinking" | "text" | undefined;
  let sawToolCalls = false;
  function* close() {
    if (open) yield ev("content_block_stop", { index });
    open = undefined;
  }
  function* start(kind: "thinking" | "text") {
    if (open === kind) return;
    yield* close();
    index++;
    open = kind;
    yield ev("content_block_start", { index, content_block: kind === "text" ? { type: "text", text: "" } : { type: "thinking", thinking: "" } });
  }
  for await (const c of native) {
    if (c.message.thinking) {
      yield* start("thinking");
      yield ev("content_block_delta", { index, delta: { type: "thinking_delta", thinking: c.message.thinking } });
    }
    if (c.message.content) {
      yield* start("text");
      yield ev("content_block_delta", { index, delta: { type: "text_delta", text: c.message.content } });
    }
    for (const tc of c.message.tool_calls ?? []) {
      sawToolCalls = true;
      yield* close();
      index++;
      const block = toolUse(tc);
      yield ev("content_block_start", { index, content_block: { ...block, input: {} } });
      yield ev("content_block_delta", { index, delta: { type: "input_json_delta", partial_json: JSON.stringify(block.input) } });
      yield ev("content_block_stop", { index });
    }
    if (c.done) {
      yield* close();
      yield ev("message_delta", {
        delta: { stop_reason: stopReason(c.done_reason, sawToolCalls), stop_sequence: null },
        usage: { input_tokens: c.prompt_eval_count ?? 0, output_tokens: c.eval_count ?? 0 },
      });
      yield ev("message_stop", {});
    }
  }
}
