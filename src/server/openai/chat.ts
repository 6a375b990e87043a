// /v1/chat/completions: an OpenAI chat request becomes a native chat request; native chunks become
// OpenAI completions or SSE chunks.
import { randomInt } from "node:crypto";
import { badRequest } from "../../api/errors.js";
import { decodeChatRequest, type ChatRequest, type ChatResponse, type Message, type ToolCall } from "../../api/inference.js";
import { thinkFromEffort, usageOf, type OpenAIChatRequest, type OpenAIContentPart, type OpenAIMessage } from "../../api/openai.js";
import { toolCallId } from "./ids.js";
import { chatLogprobs } from "./logprobs.js";
import { imageFromUrl, openAIOptions, stopList } from "./translate.js";

function partsToMessages(role: string, parts: OpenAIContentPart[]): Message[] {
  return parts.map((part) => {
    switch (part.type) {
      case "text":
        return { role, content: (part as { text?: string }).text ?? "" };
      case "image_url": {
        const p = (part as { image_url?: string | { url?: string } }).image_url;
        return { role, content: "", images: [imageFromUrl(typeof p === "string" ? p : (p?.url ?? ""))] };
      }
      case "input_audio":
        return { role, content: "", images: [(part as { input_audio?: { data?: string } }).input_audio?.data ?? ""] };
      default:
        throw badRequest("invalid message format");
    }
  });
}

function toolCallsOf(m: OpenAIMessage): ToolCall[] | undefined {
  if (!m.tool_calls?.length) return undefined;
  return m.tool_calls.map((tc, index) => {
    let args: Record<string, unknown>;
    try {
      args = JSON.parse(tc.function?.arguments || "{}") as Record<string, unknown>;
    } catch {
      throw badRequest("invalid tool call arguments");
    }
    return { id: tc.id, function: { index, name: tc.function?.name ?? "", arguments: args } };
  });
}

function nativeMessages(input: OpenAIMessage[]): Message[] {
  const out: Message[] = [];
  for (const m of input) {
    const role = m.role ?? "";
    const toolCalls = toolCallsOf(m);
    if (Array.isArray(m.content)) {
      out.push(...partsToMessages(role, m.content));
      if (toolCalls) out[out.length - 1]!.tool_calls = toolCalls;
      continue;
    }
    if (m.content == null && !toolCalls) throw badRequest("invalid message content type: <nil>");
    if (m.content != null && typeof m.content !== "string") throw badRequest(`invalid message content type: ${typeof m.content}`);
    const msg: Message = { role, content: m.content ?? "" };
    if (toolCalls) msg.tool_calls = toolCalls;
    if (m.reasoning) msg.thinking = m.reasoning;
    if (role === "tool") {
      // A tool result names its tool, or is matched to the call it answers.
      const name =
        m.name ??
        [...out].reverse().flatMap((x) => x.tool_calls ?? []).find((tc) => tc.id === m.tool_call_id)?.function.name;
      if (name) msg.tool_name = name;
      if (m.tool_call_id) msg.tool_call_id = m.tool_call_id;
    }
    out.push(msg);
  }
  return out;
}

export function toNativeChat(r: OpenAIChatRequest): ChatRequest {
  if (!Array.isArray(r.messages) || r.messages.length === 0) throw badRequest("[] is too short - 'messages'");
  const format =
    r.response_format?.type === "json_object"
      ? "json"
      : r.response_format?.type === "json_schema"
        ? r.response_format.json_schema?.schema
        : undefined;
  return decodeChatRequest({
    model: r.model,
    messages: nativeMessages(r.messages),
    stream: r.stream ?? false,
    format,
    tools: r.tools,
    think: thinkFromEffort(r.reasoning_effort ?? r.reasoning?.effort),
    logprobs: r.logprobs,
    top_logprobs: r.top_logprobs,
    _debug_render_only: r._debug_render_only,
    options: {
      ...openAIOptions(r),
      ...(r.max_tokens ?? r.max_completion_tokens) !== undefined ? { num_predict: r.max_tokens ?? r.max_completion_tokens } : {},
      ...(r.stop !== undefined ? { stop: stopList(r.stop) } : {}),
    },
  });
}

const unix = (createdAt: string) => Math.floor(new Date(createdAt).getTime() / 1000);

function openAIToolCalls(calls: ToolCall[]) {
  return calls.map((tc, i) => ({
    id: tc.id ?? toolCallId(),
    index: tc.function.index ?? i,
    type: "function",
    function: { name: tc.function.name, arguments: JSON.stringify(tc.function.arguments ?? {}) },
  }));
}

function finishReason(doneReason: string | undefined, toolCalls: boolean): string | null {
  if (!doneReason) return null;
  return toolCalls && doneReason === "stop" ? "tool_calls" : doneReason;
}

export function chatCompletionId(): string {
  return `chatcmpl-${randomInt(0, 999)}`;
}

/** The non-streaming answer, from the collected native response. */
export function toChatCompletion(native: ChatResponse, id: string, model: string) {
  const calls = native.message.tool_calls ?? [];
  return {
    id,
    object: "chat.completion",
    created: unix(native.created_at),
    model,
    system_fingerprint: "fp_ollama",
    choices: [
      {
        index: 0,
        message: {
          role: "assistant",
          content: native.message.content,
          ...(native.message.thinking ? { reasoning: native.message.thinking } : {}),
          ...(calls.length ? { tool_calls: openAIToolCalls(calls) } : {}),
        },
        finish_reason: finishReason(native.done_reason, calls.length > 0),
        logprobs: chatLogprobs(native.logprobs),
      },
    ],
    usage: usageOf(native),
    // `_debug_render_only` answers carry the rendered prompt through.
    ...(native._debug_info ? { _debug_info: native._debug_info } : {}),
  };
}

/** Native chunks -> OpenAI chunk objects (role only in the first delta; a finish chunk; usage on request). */
export async function* toChatChunks(native: AsyncIterable<ChatResponse>, id: string, model: string, includeUsage: boolean) {
  let created: number | undefined;
  let first = true;
  let sawToolCalls = false;
  const chunk = (delta: Record<string, unknown>, finish: string | null = null, logprobs?: object) => ({
    id,
    object: "chat.completion.chunk",
    created,
    model,
    system_fingerprint: "fp_ollama",
    choices: [{ index: 0, delta, finish_reason: finish, logprobs }],
  });
  const role = () => (first ? ((first = false), { role: "assistant" }) : {});
  for await (const c of native) {
    created ??= unix(c.created_at);
    // A chunk's log probabilities ride on the first OpenAI chunk made from it.
    let logprobs = chatLogprobs(c.logprobs);
    const take = () => {
      const l = logprobs;
      logprobs = undefined;
      return l;
    };
    if (c.message.thinking) yield chunk({ ...role(), reasoning: c.message.thinking }, null, take());
    if (c.message.tool_calls?.length) {
      sawToolCalls = true;
      yield chunk({ ...role(), tool_calls: openAIToolCalls(c.message.tool_calls) }, null, take());
    }
    if (c.message.content || (!c.done && !c.message.thinking && !c.message.tool_calls?.length)) {
      yield chunk({ ...role(), content: c.message.content }, null, take());
    }
    if (c.done) {
      yield chunk({}, finishReason(c.done_reason, sawToolCalls));
      if (includeUsage) yield { ...chunk({}), choices: [], usage: usageOf(c) };
    }
  }
}
