// Ollama's generate parameters as llama-server /completion and /infill fields. Every sampler field
// is sent, so llama-server's own defaults never apply; the sampler order is Ollama's.
import type { GenerateParams } from "../../protocol.js";
import { nProbs, type TokenProbability } from "./logprobs.js";

/** One event of llama-server's completion stream (the fields corral reads). */
export interface CompletionEvent {
  content?: string;
  stop?: boolean;
  stop_type?: "none" | "eos" | "limit" | "word";
  /** Prompt tokens of the task, as llama-server laid them out. */
  tokens_evaluated?: number;
  /** Prompt tokens reused from the slot's cache. */
  tokens_cached?: number;
  /** prompt_n: prompt tokens evaluated in this task (the cached prefix excluded). */
  timings?: { prompt_n: number; prompt_ms: number; predicted_n: number; predicted_ms: number };
  /** With n_probs, on a streamed event: the token this event sends. */
  completion_probabilities?: TokenProbability[];
}

/**
 * The prompt as tokens for one slot of `ctx` tokens: exactly one BOS when the model wants one, and
 * Ollama's truncation (keep BOS and the first num_keep tokens, drop the oldest after them) when it
 * does not fit and shifting is allowed; "too-long" when it does not fit and shifting is off.
 */
export function fitPrompt(tokens: number[], bos: number | null, ctx: number, p: Pick<GenerateParams, "numKeep" | "shift">): number[] | "too-long" {
  let body = bos != null && tokens[0] === bos ? tokens.slice(1) : tokens;
  const lead = bos != null ? 1 : 0;
  // Room for at least one generated token.
  if (body.length + lead > ctx - 1) {
    if (!p.shift) {
      if (body.length + lead > ctx) return "too-long";
    } else {
      const keep = Math.max(0, Math.min(p.numKeep < 0 ? body.length : p.numKeep, ctx - 2 - lead));
      const discard = body.length + lead - (ctx - 1);
      body = [...body.slice(0, keep), ...body.slice(keep + discard)];
    }
  }
  return bos != null ? [bos, ...body] : body;
}

export function completionBody(p: GenerateParams, nPredict: number, ctx: number, jsonGrammar?: string): Record<string, unknown> {
  const s = p.sampling;
  const body: Record<string, unknown> = {
    stream: true,
    cache_prompt: true,
    n_predict: nPredict,
    n_keep: p.numKeep < 0 ? -1 : p.numKeep,
    stop: p.stop.filter((x) => x !== ""),
    temperature: Math.max(0, s.temperature),
    top_k: s.topK > 0 ? Math.floor(s.topK) : 0,
    top_p: Math.min(1, Math.max(0, s.topP)),
    min_p: Math.min(1, Math.max(0, s.minP)),
    typical_p: s.typicalP ?? 1,
    // Go's uint32(seed).
    seed: Math.trunc(s.seed) >>> 0,
    repeat_penalty: s.repeatPenalty,
    repeat_last_n: s.repeatLastN < 0 ? ctx : s.repeatLastN,
    presence_penalty: s.presencePenalty,
    frequency_penalty: s.frequencyPenalty,
    dry_multiplier: 0,
    xtc_probability: 0,
    mirostat: 0,
    top_n_sigma: -1,
    dynatemp_range: 0,
    ignore_eos: false,
    n_probs: nProbs(p.logprobs),
    // Probabilities as the model gave them, not after the sampler chain.
    post_sampling_probs: false,
    samplers: ["penalties", "top_k", "typ_p", "top_p", "min_p", "temperature"],
    timings_per_token: false,
    return_tokens: false,
  };
  if (p.grammar?.kind === "json") body.grammar = jsonGrammar;
  else if (p.grammar?.kind === "schema") body.json_schema = p.grammar.schema;
  return body;
}

/** Fill in the middle: llama-server lays out the model's FIM tokens around the two sides. */
export function infillBody(p: GenerateParams): Record<string, unknown> {
  return { input_prefix: p.prompt, input_suffix: p.suffix ?? "", prompt: "" };
}
