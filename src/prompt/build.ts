// Ollama's prompt construction (spec §10.2-10.4): which renderer a model uses, and executing a Go
// template in messages mode, legacy (turn by turn) mode or suffix mode.
import type { Message, Think } from "../api/inference.js";
import { GoList, type GoValue } from "./gotemplate/index.js";
import { messageValue, rootValue, toolsValue } from "./data.js";
import { renderJinja } from "./jinja.js";
import { collate, type PromptModel } from "./messages.js";
import { executeTemplate, parseTemplate, truncatedAtResponse, type ParsedTemplate } from "./template.js";

export const DEFAULT_TEMPLATE = "{{ .Prompt }}";

export type PromptFormat = { kind: "go"; template: ParsedTemplate } | { kind: "jinja"; source: string };

/** The renderer Ollama picks: a request override, the Go TEMPLATE, else the GGUF's Jinja template, else `{{ .Prompt }}`. */
export function promptFormat(model: PromptModel, override?: string): PromptFormat {
  if (override) return { kind: "go", template: parseTemplate(override) };
  if (model.template) return { kind: "go", template: parseTemplate(model.template) };
  if (model.chatTemplate) return { kind: "jinja", source: model.chatTemplate };
  return { kind: "go", template: parseTemplate(DEFAULT_TEMPLATE) };
}

export interface RenderOptions {
  /** Request tools (undefined: none, which templates see as nil). */
  tools?: unknown[];
  /** The think value after defaulting (undefined: unset). */
  think?: Think;
  /** BOS/EOS texts for Jinja templates. */
  bosText?: string;
  eosText?: string;
}

/** .Think, .ThinkLevel and .IsThinkSet: true means level "medium". */
function thinkValues(think: Think | undefined): Record<string, GoValue> {
  const on = think !== undefined && think !== false;
  const level = typeof think === "string" ? think : think === true ? "medium" : "";
  return { Think: on, ThinkLevel: level, IsThinkSet: think !== undefined };
}

/** Messages mode: one execution over the collated messages. */
function renderMessagesMode(t: ParsedTemplate, messages: Message[], opts: RenderOptions): string {
  const { system, messages: collated } = collate(messages);
  const data = rootValue({
    System: system,
    Messages: new GoList(collated.map(messageValue), "[]*template.templateMessage"),
    Tools: toolsValue(opts.tools),
    Response: "",
    ...thinkValues(opts.think),
  });
  return executeTemplate(t, data);
}

/** Legacy mode: the template runs once per turn; the last turn stops right after `.Response`. */
function renderLegacy(t: ParsedTemplate, messages: Message[], opts: RenderOptions): string {
  let out = "";
  let system = "";
  let prompt = "";
  let response = "";
  const data = () => rootValue({ System: system, Prompt: prompt, Response: response, ...thinkValues(opts.think) });
  const flush = () => {
    out += executeTemplate(t, data());
    system = prompt = response = "";
  };
  for (const m of collate(messages).messages) {
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
  return out + executeTemplate(t, data(), truncatedAtResponse(t));
}

/** Renders `messages` into the prompt text sent to the engine. */
export function renderMessages(format: PromptFormat, messages: Message[], opts: RenderOptions = {}): string {
  if (format.kind === "jinja") {
    return renderJinja(format.source, messages, {
      bosText: opts.bosText ?? "",
      eosText: opts.eosText ?? "",
      tools: opts.tools,
      think: opts.think,
    });
  }
  const t = format.template;
  return t.vars.has("messages") ? renderMessagesMode(t, messages, opts) : renderLegacy(t, messages, opts);
}

/** Suffix mode (generate with prompt and suffix): one execution with only Prompt, Suffix and the think flags. */
export function renderSuffix(t: ParsedTemplate, prompt: string, suffix: string, think?: Think): string {
  return executeTemplate(t, rootValue({ Prompt: prompt, Suffix: suffix, Response: "", ...thinkValues(think) }));
}
