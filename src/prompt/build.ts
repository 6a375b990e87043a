// Ollama's prompt construction: which messages a request turns into, and how they are rendered
// with the model's Go template (legacy mode) or the GGUF's Jinja chat template.
import type { Message } from "../api/inference.js";
import { renderJinja, type JinjaContext } from "./jinja.js";
import { execute, parseTemplate, truncatedAtResponse, type ParsedTemplate } from "./template.js";

export const DEFAULT_TEMPLATE = "{{ .Prompt }}";

/** What the prompt layer needs to know about a model. */
export interface PromptModel {
  /** Go TEMPLATE layer, if any. */
  template?: string;
  /** The GGUF's tokenizer.chat_template, used when there is no TEMPLATE layer. */
  chatTemplate?: string;
  system?: string;
  messages: Message[];
}

export type PromptFormat = { kind: "go"; template: ParsedTemplate } | { kind: "jinja"; source: string };

/** The renderer Ollama picks: Go TEMPLATE, else the GGUF's Jinja template, else `{{ .Prompt }}`. */
export function promptFormat(model: PromptModel, override?: string): PromptFormat {
  if (override) return { kind: "go", template: parseTemplate(override) };
  if (model.template) return { kind: "go", template: parseTemplate(model.template) };
  if (model.chatTemplate) return { kind: "jinja", source: model.chatTemplate };
  return { kind: "go", template: parseTemplate(DEFAULT_TEMPLATE) };
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

/** Consecutive messages of the same role merge into one (contents joined by a blank line); tool messages never merge. */
export function collate(messages: Message[]): Message[] {
  const out: Message[] = [];
  for (const m of messages) {
    const prev = out[out.length - 1];
    if (prev && prev.role === m.role && m.role !== "tool") {
      out[out.length - 1] = { ...prev, content: `${prev.content}\n\n${m.content}` };
    } else out.push({ ...m });
  }
  return out;
}

/** Legacy execution: the template runs once per turn; the last turn stops right after `.Response`. */
function renderLegacy(t: ParsedTemplate, messages: Message[]): string {
  let out = "";
  let system = "";
  let prompt = "";
  let response = "";
  const data = () => ({ System: system, Prompt: prompt, Response: response, Think: false, ThinkLevel: "", IsThinkSet: false });
  const flush = () => {
    out += execute(t.nodes, data());
    system = prompt = response = "";
  };
  for (const m of collate(messages)) {
    if (m.role === "system") {
      if (prompt || response) flush();
      system = m.content;
    } else if (m.role === "user") {
      if (response) flush();
      prompt = m.content;
    } else if (m.role === "assistant") {
      response = m.content;
    }
  }
  return out + execute(truncatedAtResponse(t), data());
}

/** Renders `messages` into the prompt text sent to the engine. */
export function renderMessages(format: PromptFormat, messages: Message[], ctx: JinjaContext): string {
  if (format.kind === "jinja") {
    return renderJinja(format.source, messages.map((m) => ({ role: m.role, content: m.content })), ctx);
  }
  return renderLegacy(format.template, messages);
}
