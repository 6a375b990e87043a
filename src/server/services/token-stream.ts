// The runner side of a generation: the engine parameters from the merged options, the token stream
// turned into API chunks, and Ollama's final durations.
import { randomInt } from "node:crypto";
import type { Format, InferenceFields } from "../../api/inference.js";
import type { GenerateParams, GenerateStats, GrammarSpec, Logprob } from "../../runner/protocol.js";
import type { Lease } from "../../scheduler/scheduler.js";
import { AsyncQueue } from "../async-queue.js";
import type { Prepared } from "./inference-prep.js";

export function grammarOf(format: Format | undefined): GrammarSpec | undefined {
  if (format === undefined) return undefined;
  return format === "json" ? { kind: "json" } : { kind: "schema", schema: format };
}

export function generateParams(p: Prepared, prompt: string, format: Format | undefined, req: InferenceFields, returnContext: boolean): GenerateParams {
  const o = p.options;
  const numCtx = p.load.contextSize;
  return {
    prompt,
    // num_predict <= 0 means "until a stop"; bounded, as Ollama bounds -1, to 10 x num_ctx.
    maxTokens: o.num_predict <= 0 ? 10 * numCtx : o.num_predict,
    stop: o.stop,
    sampling: {
      temperature: o.temperature,
      topK: o.top_k,
      topP: o.top_p,
      minP: o.min_p,
      typicalP: o.typical_p,
      // An unset seed must differ between requests (the engine's default is per-second).
      seed: o.seed < 0 ? randomInt(0, 2 ** 32 - 1) : o.seed % 2 ** 32,
      repeatPenalty: o.repeat_penalty,
      repeatLastN: o.repeat_last_n,
      presencePenalty: o.presence_penalty,
      frequencyPenalty: o.frequency_penalty,
    },
    grammar: grammarOf(format),
    numKeep: o.num_keep,
    shift: req.shift ?? true,
    returnContext,
    stream: req.stream !== false,
    // top_logprobs alone asks for nothing (Ollama's rule).
    logprobs: req.logprobs ? (req.top_logprobs ?? 0) : undefined,
  };
}

export function durations(t0: bigint, lease: Lease, stats: GenerateStats) {
  // Go's omitempty drops zero counts and durations.
  const nz = (n: number) => (n > 0 ? Math.round(n) : undefined);
  return {
    total_duration: nz(Number(process.hrtime.bigint() - t0)),
    load_duration: nz(lease.loadNs),
    // Only what was evaluated: a prompt prefix reused from the cache is not counted (as in Ollama).
    prompt_eval_count: nz(stats.promptEvalTokens ?? stats.promptTokens),
    prompt_eval_duration: nz(stats.promptEvalNs),
    eval_count: nz(stats.evalTokens),
    eval_duration: nz(stats.evalNs),
  };
}

export async function* stream<T extends object>(
  lease: Lease,
  params: GenerateParams,
  signal: AbortSignal,
  /** Called for text, and for tokens whose text is held back but whose log probabilities are not. */
  chunk: (text: string, logprobs?: Logprob[]) => T | undefined,
  final: (stats: GenerateStats) => T,
): AsyncGenerator<T> {
  try {
    const texts = new AsyncQueue<{ text: string; logprobs?: Logprob[] }>();
    const done = lease.runner.generate(params, { signal, onToken: (text, logprobs) => texts.push({ text, logprobs }) });
    done.then(() => texts.end(), (e) => texts.fail(e));
    for await (const { text, logprobs } of texts) {
      const c = text || logprobs?.length ? chunk(text, logprobs) : undefined;
      if (c) yield c;
    }
    yield final(await done);
  } finally {
    lease.release();
  }
}
