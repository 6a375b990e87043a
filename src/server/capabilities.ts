// What a model can do (spec §11.1), from its GGUF facts, projectors and prompt template.
import type { StoredModel } from "../store/model.js";
import type { ModelFacts } from "./model-facts.js";

export type Capability = "completion" | "embedding" | "tools" | "insert" | "vision" | "thinking";

export function capabilities(model: StoredModel, facts: ModelFacts | undefined): Capability[] {
  const caps = new Set<Capability>();
  const jinja = !model.template ? facts?.chatTemplate : undefined;
  if (jinja) {
    if (jinja.includes("tools") || jinja.includes("tool_call")) caps.add("tools");
    if (jinja.includes("<think>") && jinja.includes("</think>")) caps.add("thinking");
  }
  if (facts) caps.add(facts.hasPooling ? "embedding" : "completion");
  if (facts?.hasVision || model.projectorPaths.length > 0) caps.add("vision");
  if (model.template) {
    if (/\.Tools\b/.test(model.template)) caps.add("tools");
    if (/\.Suffix\b/.test(model.template)) caps.add("insert");
  }
  return [...caps];
}
