// Renders a GGUF's own Jinja chat template (tokenizer.chat_template) the way llama.cpp does for
// models without a Go TEMPLATE layer.
import { Template } from "@huggingface/jinja";

export interface JinjaMessage {
  role: string;
  content: string;
}

export interface JinjaContext {
  bosText: string;
  eosText: string;
}

const cache = new Map<string, Template>();

export function renderJinja(source: string, messages: JinjaMessage[], ctx: JinjaContext): string {
  let tpl = cache.get(source);
  if (!tpl) {
    tpl = new Template(source);
    if (cache.size > 32) cache.clear();
    cache.set(source, tpl);
  }
  let text = tpl.render({
    messages,
    bos_token: ctx.bosText,
    eos_token: ctx.eosText,
    add_generation_prompt: true,
  });
  // The runner adds BOS itself; a template that writes it too would double it.
  if (ctx.bosText && text.startsWith(ctx.bosText)) text = text.slice(ctx.bosText.length);
  return text;
}
