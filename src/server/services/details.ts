import type { ModelDetails } from "../../api/models.js";
import type { StoredModel } from "../../store/model.js";
import type { ModelFacts } from "../model-facts.js";

/** The `details` object of tags/show/ps, from the config blob (falling back to the GGUF). */
export function detailsOf(model: StoredModel, facts: ModelFacts | undefined, opts: { parentModel?: string } = {}): ModelDetails {
  const c = model.config;
  return {
    parent_model: opts.parentModel ?? model.parentModel,
    format: c.model_format ?? (facts ? "gguf" : ""),
    family: c.model_family ?? facts?.architecture ?? "",
    families: c.model_families ?? (facts ? [facts.architecture] : null),
    parameter_size: c.model_type ?? "",
    quantization_level: c.file_type && c.file_type !== "unknown" ? c.file_type : (facts?.fileType ?? c.file_type ?? ""),
  };
}
