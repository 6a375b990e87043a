// Ollama's `format: "json"` grammar: llama.cpp's own json.gbnf, as shipped with the source it builds.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { nodeLlamaCppDir } from "../../../engine/source.js";

let text: string | undefined;

export function jsonGrammar(): string {
  text ??= readFileSync(join(nodeLlamaCppDir(), "llama", "grammars", "json.gbnf"), "utf8");
  return text;
}
