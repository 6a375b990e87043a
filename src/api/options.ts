// Ollama's runtime options (spec §5): their types, defaults, and the key-by-key merge
// defaults <- model parameters <- request options. Unknown keys are ignored, never errors.
import { ApiError } from "./errors.js";

export type OptionType = "int" | "float" | "bool" | "stringArray";

/** Every option Ollama knows and its type (also what a Modelfile's PARAMETER lines are typed by). */
export const OPTION_TYPES = {
  num_keep: "int", seed: "int", num_predict: "int", top_k: "int", top_p: "float", min_p: "float",
  typical_p: "float", repeat_last_n: "int", temperature: "float", repeat_penalty: "float",
  presence_penalty: "float", frequency_penalty: "float", stop: "stringArray",
  num_ctx: "int", num_batch: "int", num_gpu: "int", main_gpu: "int", use_mmap: "bool", num_thread: "int",
  draft_num_predict: "int",
} as const satisfies Record<string, OptionType>;

export type OptionName = keyof typeof OPTION_TYPES;

export interface Options {
  num_keep: number; seed: number; num_predict: number; top_k: number; top_p: number; min_p: number;
  typical_p: number; repeat_last_n: number; temperature: number; repeat_penalty: number;
  presence_penalty: number; frequency_penalty: number; stop: string[];
  /** 0 = not set: the server default applies. */
  num_ctx: number; num_batch: number; num_gpu: number; main_gpu: number;
  use_mmap?: boolean;
  /** 0 = automatic (physical cores). */
  num_thread: number;
  /** Tokens the draft model proposes a step (speculative decoding). */
  draft_num_predict?: number;
}

export function defaultOptions(): Options {
  return {
    num_keep: 4, seed: -1, num_predict: -1, top_k: 40, top_p: 0.9, min_p: 0, typical_p: 1,
    repeat_last_n: 64, temperature: 0.8, repeat_penalty: 1, presence_penalty: 0, frequency_penalty: 0,
    stop: [], num_ctx: 0, num_batch: 512, num_gpu: -1, main_gpu: 0, num_thread: 0,
  };
}

export function isKnownOption(key: string): key is OptionName {
  return Object.hasOwn(OPTION_TYPES, key);
}

/** Checks one option value; throws Ollama's 500 on a wrong type. Returns the normalised value. */
export function checkOption(key: OptionName, value: unknown): number | boolean | string[] {
  const type: OptionType = OPTION_TYPES[key];
  const fail = (what: string) => new ApiError(500, `option "${key}" must be ${what}`);
  switch (type) {
    case "int":
      if (typeof value !== "number") throw fail("of type integer");
      return Math.trunc(value);
    case "float":
      if (typeof value !== "number") throw fail("of type float32");
      return value;
    case "bool":
      if (typeof value !== "boolean") throw fail("of type boolean");
      return value;
    case "stringArray":
      if (!Array.isArray(value)) throw fail("of type array");
      if (!value.every((s) => typeof s === "string")) throw fail("of an array of strings");
      return value as string[];
  }
}

/** Applies `overrides` onto `base` key by key; unknown keys and nulls are ignored. */
export function applyOptions(base: Options, overrides: Record<string, unknown> | undefined): Options {
  const out = { ...base };
  for (const [key, value] of Object.entries(overrides ?? {})) {
    if (value === null || value === undefined || !isKnownOption(key)) continue;
    (out as Record<string, unknown>)[key] = checkOption(key, value);
  }
  return out;
}
