// Create-time chat template detection, as Ollama does it: a GGUF whose Jinja chat template is one of
// the well-known families gets that family's Go TEMPLATE and its stop parameters as layers. A family
// is recognised by the marker strings its template must (and must not) hold; the table is data
// (template-families.json). Long templates, and templates that render tools, are left alone: they
// are not the plain family templates, and the model's own Jinja template renders them fully.
import { chatTemplate } from "../gguf/info.js";
import type { GgufFile } from "../gguf/reader.js";
import table from "./template-families.json" with { type: "json" };

export interface TemplateFamily {
  name: string;
  /** A Go text/template over .Messages. */
  template: string;
  parameters: { stop: string[] };
}

interface FamilyEntry extends TemplateFamily {
  detect: { all: string[]; none?: string[] };
}

/** Longer Jinja templates are more than a plain family template (tool calls, reasoning, ...). */
const MAX_DETECTED_LENGTH = 1500;

export const TEMPLATE_FAMILIES: readonly FamilyEntry[] = (table as { families: FamilyEntry[] }).families;

/** The family a Jinja chat template belongs to, if it is a plain template of a known one. */
export function detectTemplateFamily(jinja: string): TemplateFamily | undefined {
  if (jinja.length > MAX_DETECTED_LENGTH || /\btools\b/.test(jinja)) return undefined;
  const hit = TEMPLATE_FAMILIES.find((f) => f.detect.all.every((m) => jinja.includes(m)) && !(f.detect.none ?? []).some((m) => jinja.includes(m)));
  return hit && { name: hit.name, template: hit.template, parameters: { stop: [...hit.parameters.stop] } };
}

/** The family of a GGUF's own chat template, if any. */
export function detectTemplate(gguf: GgufFile): TemplateFamily | undefined {
  const jinja = chatTemplate(gguf);
  return jinja ? detectTemplateFamily(jinja) : undefined;
}
