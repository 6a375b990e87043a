// The prompt of a generation: the model's template (or a request override) rendered over the messages,
// fitted into num_ctx, and how the output is to be split (thinking, tool calls).
import { ApiError } from "../../api/errors.js";
import type { DebugInfo, GenerateRequest, Message, Think } from "../../api/inference.js";
import { promptFormat, renderMessages, renderSuffix, type PromptFormat } from "../../prompt/build.js";
import { jinjaThinkingTags, jinjaToolCallTag } from "../../prompt/jinja.js";
import { generateMessages, tagImages, type PromptModel } from "../../prompt/messages.js";
import type { OutputOptions } from "../../prompt/output.js";
import { TemplateError, thinkingTags, toolCallTag } from "../../prompt/template.js";
import { toolNames } from "../../prompt/tools.js";
import { fitMessages } from "../../prompt/truncate.js";
import type { Lease } from "../../scheduler/scheduler.js";
import type { StoredModel } from "../../store/model.js";
import type { ModelFacts } from "../model-facts.js";
import type { Prepared } from "./inference-prep.js";

export function promptModel(model: StoredModel, facts: ModelFacts): PromptModel {
  return { template: model.template, chatTemplate: facts.chatTemplate, system: model.system, messages: model.messages };
}

/** Template errors while rendering are the server's (500), with Go's message. */
export function templateErrors<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof TemplateError) throw new ApiError(500, e.message);
    throw e;
  }
}

export function formatFor(p: Prepared, override?: string): PromptFormat {
  return templateErrors(() => promptFormat(promptModel(p.model, p.facts), override));
}

export interface RenderPlan {
  format: PromptFormat;
  tools?: unknown[];
  think?: Think;
  truncate: boolean;
}

/** Renders the conversation, dropping its oldest messages while the prompt exceeds num_ctx (tokens counted by the runner). */
export async function renderFitted(p: Prepared, lease: Lease, messages: Message[], plan: RenderPlan) {
  const info = lease.runner.info;
  const render = (msgs: Message[]) =>
    templateErrors(() =>
      renderMessages(plan.format, msgs, { tools: plan.tools, think: plan.think, bosText: info.bosText, eosText: info.eosText }),
    );
  const count = async (text: string) => (await lease.runner.tokenize(text)).length + (info.addBos ? 1 : 0);
  return fitMessages(messages, render, count, {
    numCtx: Math.min(p.load.contextSize, info.contextSize),
    truncate: plan.truncate,
    imageTokens: p.model.projectorPaths.length > 0 ? 768 : 0,
    // Jinja templates have no marker of their own; the engine needs one where each image goes.
    imageMarkers: plan.format.kind === "go" || p.model.projectorPaths.length > 0,
  });
}

/** How the model's output is split: thinking tags (from the model's own template) and the tool-call tag. */
export function outputOptions(p: Prepared, think: Think | undefined, prompt: string, tools: unknown[] | undefined): OutputOptions {
  const own = formatFor(p);
  const opts: OutputOptions = {};
  if (think !== undefined && think !== false) {
    const tags = own.kind === "go" ? thinkingTags(own.template) : jinjaThinkingTags(own.source);
    if (tags?.open && tags.close) opts.thinking = { ...tags, prefilled: prompt.trim().endsWith(tags.open) };
  }
  if (tools?.length) {
    opts.tools = { tag: own.kind === "go" ? toolCallTag(own.template) : jinjaToolCallTag(own.source), names: toolNames(tools) };
  }
  return opts;
}

/** `_debug_render_only`: the prompt the engine would get, without generating. */
export function debugInfo(rendered: string, images: number): DebugInfo {
  return { rendered_template: rendered, image_count: images };
}

export interface GenerateInput {
  text: string;
  images: number;
  /** The images `[img-N]` in `text` names. */
  imageData: string[];
  /** Fill-in-the-middle by the engine: `text` is the prefix. */
  suffix?: string;
  /** What _debug_render_only shows. */
  debug: string;
}

/** The prompt for /api/generate: raw, suffix mode (template or engine FIM), a template override, or the chat path. */
export async function generateInput(p: Prepared, lease: Lease, req: GenerateRequest, think: Think | undefined): Promise<GenerateInput> {
  const prompt = req.prompt ?? "";
  const images = req.images?.length ?? 0;
  const imageData = req.images ?? [];
  if (req.raw) return { text: prompt, images, imageData, debug: prompt };
  const prior = req.context?.length ? await lease.runner.detokenize(req.context) : "";
  if (req.suffix) {
    const format = formatFor(p, req.template);
    if (format.kind === "go" && (format.template.vars.has("suffix") || !p.facts.fim)) {
      const text = prior + templateErrors(() => renderSuffix(format.template, prompt, req.suffix!, think));
      return { text, images, imageData, debug: text };
    }
    const fim = p.facts.fim!;
    return { text: prompt, suffix: req.suffix, images, imageData, debug: `${fim.prefix}${prompt}${fim.suffix}${req.suffix}${fim.middle}` };
  }
  const messages = generateMessages(promptModel(p.model, p.facts), {
    prompt,
    system: req.system,
    images: req.images,
    hasContext: Boolean(req.context?.length),
  });
  if (req.template) {
    // A request template runs directly over the messages: no truncation, and .Tools is nil.
    const format = formatFor(p, req.template);
    const tagged = tagImages(messages);
    const text = prior + templateErrors(() => renderMessages(format, tagged.messages, { think }));
    return { text, images, imageData: tagged.data, debug: text };
  }
  const fitted = await renderFitted(p, lease, messages, { format: formatFor(p), tools: [], think, truncate: req.truncate ?? true });
  return { text: prior + fitted.prompt, images: fitted.images, imageData: fitted.imageData, debug: prior + fitted.prompt };
}
