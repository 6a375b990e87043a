// Library entry: the prompt the server would send to the engine for a Go template and a request.
import type { Message, Think } from "../api/inference.js";
import { renderMessages, renderSuffix } from "./build.js";
import { parseTemplate, thinkingTags } from "./template.js";

export interface RenderValues {
  /** The conversation (chat `messages`). */
  messages?: Message[];
  /** A system prompt, as a model's SYSTEM: used unless the messages start with a system message. */
  system?: string;
  /** Generate's `prompt`: rendered as one user message after the messages (or, with `suffix`, in suffix mode). */
  prompt?: string;
  suffix?: string;
  tools?: unknown[];
  think?: Think;
}

/**
 * Renders `template` (Go text/template, Ollama's data model) for a request, exactly as the server
 * renders it for a model with that TEMPLATE (without history truncation). Throws a TemplateError
 * for template errors and an Error where the server would refuse the request.
 */
export function renderPrompt(template: string, values: RenderValues): string {
  const t = parseTemplate(template);
  const tags = thinkingTags(t);
  const canThink = tags.open !== "" && tags.close !== "";
  let think = values.think;
  if (canThink && think === undefined) think = true;
  if (!canThink && think !== undefined && think !== false) throw new Error("template does not support thinking");
  if (values.tools?.length && !t.vars.has("tools")) throw new Error("template does not support tools");
  if (values.prompt && values.suffix) return renderSuffix(t, values.prompt, values.suffix, think);
  const messages: Message[] = [...(values.messages ?? [])];
  if (values.system && messages[0]?.role !== "system") messages.unshift({ role: "system", content: values.system });
  if (values.prompt !== undefined) messages.push({ role: "user", content: values.prompt });
  return renderMessages({ kind: "go", template: t }, messages, { tools: values.tools, think });
}
