// Renders a GGUF's own Jinja chat template (tokenizer.chat_template) for models without a Go
// TEMPLATE layer, with the Hugging Face conventions for tools, tool calls and thinking.
import { Template } from "@huggingface/jinja";
import type { Message } from "../api/inference.js";

export interface JinjaContext {
  bosText: string;
  eosText: string;
  tools?: unknown[];
  /** Resolved think value; passed as enable_thinking when set. */
  think?: boolean | string;
}

const cache = new Map<string, Template>();

/** Messages in the shape chat templates expect (tool_calls with type, tool results with name). */
function jinjaMessage(m: Message): Record<string, unknown> {
  const out: Record<string, unknown> = { role: m.role, content: m.content };
  if (m.thinking) out.reasoning_content = m.thinking;
  if (m.tool_calls?.length) {
    out.tool_calls = m.tool_calls.map((c) => ({
      ...(c.id ? { id: c.id } : {}),
      type: "function",
      function: { name: c.function?.name, arguments: c.function?.arguments ?? {} },
    }));
  }
  if (m.tool_name) out.name = m.tool_name;
  if (m.tool_call_id) out.tool_call_id = m.tool_call_id;
  return out;
}

export function renderJinja(source: string, messages: Message[], ctx: JinjaContext): string {
  let tpl = cache.get(source);
  if (!tpl) {
    tpl = new Template(source);
    if (cache.size > 32) cache.clear();
    cache.set(source, tpl);
  }
  let text = tpl.render({
    messages: messages.map(jinjaMessage),
    bos_token: ctx.bosText,
    eos_token: ctx.eosText,
    add_generation_prompt: true,
    ...(ctx.tools?.length ? { tools: ctx.tools } : {}),
    ...(ctx.think !== undefined ? { enable_thinking: ctx.think !== false } : {}),
  });
  // The runner adds BOS itself; a template that writes it too would double it.
  if (ctx.bosText && text.startsWith(ctx.bosText)) text = text.slice(ctx.bosText.length);
  return text;
}

/** Thinking tags a Jinja template shows it uses. */
export function jinjaThinkingTags(source: string): { open: string; close: string } | undefined {
  return source.includes("<think>") && source.includes("</think>") ? { open: "<think>", close: "</think>" } : undefined;
}

/** The tool-call prefix a Jinja template writes for calls: a known tag, else a bare JSON object. */
export function jinjaToolCallTag(source: string): string {
  for (const tag of ["<tool_call>", "[TOOL_CALLS]", "<|tool_call|>", "<function_call>"]) if (source.includes(tag)) return tag;
  return "{";
}
