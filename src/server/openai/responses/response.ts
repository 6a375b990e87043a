// The response object (`object: "response"`): output items from a native chat answer, and the
// request's settings echoed back the way OpenAI does (defaults filled in, unsupported ones null).
import { randomBytes } from "node:crypto";
import type { ChatResponse, ToolCall } from "../../../api/inference.js";
import { responsesUsage, type OutputText, type ResponsesOutputItem, type ResponsesRequest, type ResponsesUsage } from "../../../api/responses.js";
import { toolCallId } from "../ids.js";

const hex = () => randomBytes(12).toString("hex");
export const responseId = () => `resp_${hex()}`;
export const messageItemId = () => `msg_${hex()}`;
export const reasoningItemId = () => `rs_${hex()}`;
export const functionCallItemId = () => `fc_${hex()}`;

export const unixNow = () => Math.floor(Date.now() / 1000);
export const unixOf = (createdAt: string) => Math.floor(new Date(createdAt).getTime() / 1000);

export function outputText(text: string): OutputText {
  return { type: "output_text", text, annotations: [], logprobs: [] };
}

export function messageItem(id: string, text: string, status = "completed"): ResponsesOutputItem {
  return { id, type: "message", status, role: "assistant", content: [outputText(text)] };
}

/** The thinking, as OpenAI's summary and (in plain text) as the content a client hands back next turn. */
export function reasoningItem(id: string, thinking: string): ResponsesOutputItem {
  return { id, type: "reasoning", summary: [{ type: "summary_text", text: thinking }], encrypted_content: thinking };
}

export function functionCallItem(id: string, call: ToolCall, status = "completed"): ResponsesOutputItem {
  return {
    id,
    type: "function_call",
    status,
    call_id: call.id ?? toolCallId(),
    name: call.function.name,
    arguments: JSON.stringify(call.function.arguments ?? {}),
  };
}

export interface ResponseShell {
  id: string;
  model: string;
  createdAt: number;
  request: ResponsesRequest;
}

/** The full response object; `usage` is null until the answer is complete. */
export function responseObject(
  shell: ResponseShell,
  status: string,
  output: ResponsesOutputItem[],
  usage: ResponsesUsage | null,
  completedAt: number | null = null,
) {
  const r = shell.request;
  const effort = r.reasoning?.effort || null;
  const summary = r.reasoning?.summary || null;
  return {
    id: shell.id,
    object: "response",
    created_at: shell.createdAt,
    completed_at: completedAt,
    status,
    incomplete_details: null,
    model: shell.model,
    previous_response_id: null,
    instructions: r.instructions || null,
    output,
    error: null as { code: string; message: string } | null,
    tools: r.tools ?? [],
    tool_choice: "auto",
    truncation: r.truncation ?? "disabled",
    parallel_tool_calls: true,
    text: { format: r.text?.format ?? { type: "text" } },
    top_p: r.top_p ?? 1,
    presence_penalty: 0,
    frequency_penalty: 0,
    top_logprobs: 0,
    temperature: r.temperature ?? 1,
    reasoning: effort || summary ? { effort, summary } : null,
    usage,
    max_output_tokens: r.max_output_tokens ?? null,
    max_tool_calls: null,
    // Nothing is kept: a later request cannot refer to this one.
    store: false,
    background: false,
    service_tier: "default",
    metadata: {},
    safety_identifier: null,
    prompt_cache_key: null,
  };
}

/**
 * The non-streaming answer: the reasoning, the message, the function calls. A turn of calls has a
 * message only where its text says something (as the stream does).
 */
export function toResponse(native: ChatResponse, shell: ResponseShell) {
  const output: ResponsesOutputItem[] = [];
  const m = native.message;
  const calls = m.tool_calls ?? [];
  if (m.thinking) output.push(reasoningItem(reasoningItemId(), m.thinking));
  if (!calls.length || m.content.trim() !== "") output.push(messageItem(messageItemId(), m.content));
  output.push(...calls.map((c) => functionCallItem(functionCallItemId(), c)));
  return {
    ...responseObject(shell, "completed", output, responsesUsage(native), unixNow()),
    // `_debug_render_only` answers carry the rendered prompt through.
    ...(native._debug_info ? { _debug_info: native._debug_info } : {}),
  };
}
