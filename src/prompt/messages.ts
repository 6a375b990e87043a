// Which messages a request turns into (Ollama's chat and generate rules) and how they collate.
import type { Message } from "../api/inference.js";
import { ThinkingParser } from "./thinking.js";

/** What the prompt layer needs to know about a model. */
export interface PromptModel {
  /** Go TEMPLATE layer, if any. */
  template?: string;
  /** The GGUF's tokenizer.chat_template, used when there is no TEMPLATE layer. */
  chatTemplate?: string;
  system?: string;
  messages: Message[];
}

/** Chat: model SYSTEM (unless the request starts with a system message) + model MESSAGEs + request messages. */
export function chatMessages(model: PromptModel, request: Message[]): Message[] {
  const out: Message[] = [];
  if (model.system && request[0]?.role !== "system") out.push({ role: "system", content: model.system });
  return [...out, ...model.messages, ...request];
}

/** Generate: system (request's, else the model's) + model MESSAGEs (only without `context`) + the prompt. */
export function generateMessages(
  model: PromptModel,
  req: { prompt: string; system?: string; images?: string[]; hasContext: boolean },
): Message[] {
  const out: Message[] = [];
  const system = req.system || model.system;
  if (system) out.push({ role: "system", content: system });
  if (!req.hasContext) out.push(...model.messages);
  out.push({ role: "user", content: req.prompt, ...(req.images?.length ? { images: req.images } : {}) });
  return out;
}

/**
 * Consecutive messages of the same role merge into one (contents joined by a blank line; the first
 * message's other fields stay); tool messages never merge. Also returns every system message's
 * content joined by a blank line (the `.System` of messages mode).
 */
export function collate(messages: Message[]): { system: string; messages: Message[] } {
  const system: string[] = [];
  const out: Message[] = [];
  for (const m of messages) {
    if (m.role === "system") system.push(m.content);
    const prev = out[out.length - 1];
    if (prev && prev.role === m.role && m.role !== "tool") out[out.length - 1] = { ...prev, content: `${prev.content}\n\n${m.content}` };
    else out.push({ ...m });
  }
  return { system: system.join("\n\n"), messages: out };
}

/**
 * Image markers for templates: each image gets a sequential id; the first `[img]` in the content
 * becomes `[img-N]`, otherwise `[img-N]` is put in front of the content.
 */
export function tagImages(messages: Message[]): { messages: Message[]; images: number; data: string[] } {
  let n = 0;
  const data: string[] = [];
  const out = messages.map((m) => {
    if (!m.images?.length) return m;
    let prefix = "";
    let content = m.content;
    for (const image of m.images) {
      data.push(image);
      const tag = `[img-${n++}]`;
      if (content.includes("[img]")) content = content.replace("[img]", tag);
      else prefix += tag;
    }
    return { ...m, content: prefix + content };
  });
  return { messages: out, images: n, data };
}

/** qwen3 and deepseek-r1: a leading <think> block is dropped from assistant turns before the last user turn. */
export function stripOldThinking(messages: Message[]): Message[] {
  const lastUser = messages.map((m) => m.role).lastIndexOf("user");
  return messages.map((m, i) => {
    if (i >= lastUser || m.role !== "assistant") return m;
    const p = new ThinkingParser("<think>", "</think>");
    return { ...m, content: p.add(m.content).content };
  });
}
