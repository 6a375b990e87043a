import { randomInt } from "node:crypto";

const ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789";

/** `call_` + 8 characters of [a-z0-9], as Ollama names the tool calls it generates. */
export function toolCallId(): string {
  let s = "call_";
  for (let i = 0; i < 8; i++) s += ALPHABET[randomInt(0, ALPHABET.length)];
  return s;
}
