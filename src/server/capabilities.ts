// What a model can do (spec §11.1), from its config, GGUF facts, projectors and prompt template.
import { parseTemplate, TemplateError, thinkingTags } from "../prompt/template.js";
import type { StoredModel } from "../store/model.js";
import type { ModelFacts } from "./model-facts.js";

export type Capability = "completion" | "embedding" | "tools" | "insert" | "vision" | "thinking";

const KNOWN = new Set<string>(["completion", "embedding", "tools", "insert", "vision", "thinking"]);

/** Ollama's heuristics for a Jinja chat template. */
function jinjaCapabilities(t: string): Capability[] {
  const caps: Capability[] = [];
  if (t.includes("tools") || t.includes("tool_call")) caps.push("tools");
  const splitsThinking =
    (t.includes("content.split('</think>')") || t.includes('content.split("</think>")')) &&
    !t.includes("reasoning_content") &&
    !t.includes("<SPECIAL_12>");
  if ((t.includes("<think>") && t.includes("</think>")) || splitsThinking) caps.push("thinking");
  return caps;
}

/** A Go template's: `.Tools` -> tools, `.Suffix` -> insert, inferable thinking tags -> thinking. */
function goTemplateCapabilities(source: string): Capability[] {
  let t;
  try {
    t = parseTemplate(source);
  } catch (e) {
    if (e instanceof TemplateError) return []; // Ollama logs and reports none
    throw e;
  }
  const caps: Capability[] = [];
  if (t.vars.has("tools")) caps.push("tools");
  if (t.vars.has("suffix")) caps.push("insert");
  const tags = thinkingTags(t);
  if (tags.open && tags.close) caps.push("thinking");
  return caps;
}

export function capabilities(model: StoredModel, facts: ModelFacts | undefined): Capability[] {
  const caps = new Set<Capability>();
  for (const c of model.config.capabilities ?? []) if (KNOWN.has(c)) caps.add(c as Capability);
  const jinja = !model.template ? facts?.chatTemplate : undefined;
  if (jinja) for (const c of jinjaCapabilities(jinja)) caps.add(c);
  if (facts) caps.add(facts.hasPooling ? "embedding" : "completion");
  if (facts?.hasVision || model.projectorPaths.length > 0) caps.add("vision");
  if (model.template) for (const c of goTemplateCapabilities(model.template)) caps.add(c);
  // The engine fills in the middle itself when the vocabulary has FIM tokens.
  if (facts?.fim && caps.has("completion")) caps.add("insert");
  return [...caps];
}
