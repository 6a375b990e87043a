// Native chat chunks -> the Responses API's stream events, in OpenAI's order: response.created and
// response.in_progress, then each output item opened (output_item.added), filled (deltas) and closed
// (output_item.done) in turn, and response.completed with the whole response and its usage. Every
// event carries its type and an increasing sequence_number.
import type { ChatResponse, ToolCall } from "../../../api/inference.js";
import { responsesUsage, type ResponsesOutputItem } from "../../../api/responses.js";
import { errorBody } from "../../reply.js";
import {
  functionCallItem,
  functionCallItemId,
  messageItem,
  messageItemId,
  outputText,
  reasoningItem,
  reasoningItemId,
  responseObject,
  unixNow,
  type ResponseShell,
} from "./response.js";

export interface ResponsesEvent {
  event: string;
  data: Record<string, unknown>;
}

type Open = { kind: "reasoning" | "message"; id: string; index: number; text: string } | undefined;

class EventWriter {
  private seq = 0;
  private readonly done: ResponsesOutputItem[] = [];
  private open: Open;
  /** Leading whitespace held back: a message item opens only for text that says something, or at the end. */
  private pending = "";
  private sentMessage = false;
  private sentCalls = false;

  constructor(private readonly shell: ResponseShell) {}

  private ev(type: string, data: Record<string, unknown>): ResponsesEvent {
    return { event: type, data: { type, sequence_number: this.seq++, ...data } };
  }

  start(): ResponsesEvent[] {
    const response = responseObject(this.shell, "in_progress", [], null);
    return [this.ev("response.created", { response }), this.ev("response.in_progress", { response })];
  }

  private close(): ResponsesEvent[] {
    const o = this.open;
    if (!o) return [];
    this.open = undefined;
    const at = { item_id: o.id, output_index: o.index };
    if (o.kind === "reasoning") {
      const item = reasoningItem(o.id, o.text);
      this.done.push(item);
      return [
        this.ev("response.reasoning_summary_text.done", { ...at, summary_index: 0, text: o.text }),
        this.ev("response.reasoning_summary_part.done", { ...at, summary_index: 0, part: { type: "summary_text", text: o.text } }),
        this.ev("response.output_item.done", { output_index: o.index, item }),
      ];
    }
    const item = messageItem(o.id, o.text);
    this.done.push(item);
    return [
      this.ev("response.output_text.done", { ...at, content_index: 0, text: o.text, logprobs: [] }),
      this.ev("response.content_part.done", { ...at, content_index: 0, part: outputText(o.text) }),
      this.ev("response.output_item.done", { output_index: o.index, item }),
    ];
  }

  thinking(text: string): ResponsesEvent[] {
    const out: ResponsesEvent[] = [];
    if (this.open?.kind !== "reasoning") {
      out.push(...this.close());
      const o = (this.open = { kind: "reasoning", id: reasoningItemId(), index: this.done.length, text: "" });
      out.push(
        this.ev("response.output_item.added", { output_index: o.index, item: { id: o.id, type: "reasoning", summary: [] } }),
        this.ev("response.reasoning_summary_part.added", {
          item_id: o.id, output_index: o.index, summary_index: 0, part: { type: "summary_text", text: "" },
        }),
      );
    }
    const o = this.open!;
    o.text += text;
    out.push(this.ev("response.reasoning_summary_text.delta", { item_id: o.id, output_index: o.index, summary_index: 0, delta: text }));
    return out;
  }

  content(text: string, force = false): ResponsesEvent[] {
    // After function calls the turn is the calls: later text has no item to go in.
    if (this.sentCalls) return [];
    const out: ResponsesEvent[] = [];
    if (this.open?.kind !== "message") {
      this.pending += text;
      if (!force && this.pending.trim() === "") return out;
      out.push(...this.close());
      const o = (this.open = { kind: "message", id: messageItemId(), index: this.done.length, text: "" });
      this.sentMessage = true;
      out.push(
        this.ev("response.output_item.added", {
          output_index: o.index, item: { id: o.id, type: "message", status: "in_progress", role: "assistant", content: [] },
        }),
        this.ev("response.content_part.added", { item_id: o.id, output_index: o.index, content_index: 0, part: outputText("") }),
      );
      text = this.pending;
      this.pending = "";
      if (text === "") return out;
    }
    const o = this.open!;
    o.text += text;
    out.push(this.ev("response.output_text.delta", { item_id: o.id, output_index: o.index, content_index: 0, delta: text, logprobs: [] }));
    return out;
  }

  calls(calls: ToolCall[]): ResponsesEvent[] {
    const out = this.close();
    this.pending = "";
    this.sentCalls = true;
    for (const call of calls) {
      const item = functionCallItem(functionCallItemId(), call);
      const index = this.done.length;
      const at = { item_id: item.id, output_index: index };
      const args = (item as { arguments: string }).arguments;
      this.done.push(item);
      // Calls arrive whole: one delta carries all the arguments.
      out.push(
        this.ev("response.output_item.added", { output_index: index, item: { ...item, status: "in_progress", arguments: "" } }),
        this.ev("response.function_call_arguments.delta", { ...at, delta: args }),
        this.ev("response.function_call_arguments.done", { ...at, arguments: args }),
        this.ev("response.output_item.done", { output_index: index, item }),
      );
    }
    return out;
  }

  finish(last: ChatResponse): ResponsesEvent[] {
    // A turn with neither calls nor text still answers with a (possibly empty) message.
    const out = !this.sentCalls && !this.sentMessage ? this.content("", true) : [];
    out.push(...this.close());
    const response = responseObject(this.shell, "completed", this.done, responsesUsage(last), unixNow());
    out.push(this.ev("response.completed", { response }));
    return out;
  }

  failed(err: unknown): ResponsesEvent {
    this.open = undefined;
    const response = responseObject(this.shell, "failed", this.done, null);
    response.error = { code: "server_error", message: errorBody(err).message };
    return this.ev("response.failed", { response });
  }
}

function chunkEvents(w: EventWriter, c: ChatResponse): ResponsesEvent[] {
  const out: ResponsesEvent[] = [];
  if (c.message.thinking) out.push(...w.thinking(c.message.thinking));
  if (c.message.content) out.push(...w.content(c.message.content));
  if (c.message.tool_calls?.length) out.push(...w.calls(c.message.tool_calls));
  if (c.done) out.push(...w.finish(c));
  return out;
}

/**
 * The events for a stream of native chunks. Nothing is produced before the first chunk, so a failure
 * to start is an ordinary error answer; a failure after that ends the stream with response.failed.
 */
export async function* toResponseEvents(native: AsyncIterable<ChatResponse>, shell: ResponseShell): AsyncGenerator<ResponsesEvent> {
  const w = new EventWriter(shell);
  const it = native[Symbol.asyncIterator]();
  const first = await it.next();
  yield* w.start();
  try {
    for (let n = first; !n.done; n = await it.next()) yield* chunkEvents(w, n.value);
  } catch (err) {
    yield w.failed(err);
  }
}
