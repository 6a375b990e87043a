// What every engine driver offers the runner child: one loaded model that generates, tokenizes, embeds
// and ranks. The child speaks the protocol; a driver only turns protocol parameters into engine calls.
import type { EmbedParams, EmbedResult, GenerateParams, GenerateStats, LoadedInfo, Logprob, RerankParams, RerankResult } from "../protocol.js";

/** Receives generated text, with the log probabilities of its tokens when they were asked for. */
export type OnText = (text: string, logprobs?: Logprob[]) => void;

export interface Engine {
  readonly info: LoadedInfo;
  generate(p: GenerateParams, signal: AbortSignal, onText: OnText): Promise<GenerateStats>;
  /** Specials parsed, no BOS added (Ollama's /api/tokenize and `context` semantics). */
  tokenize(text: string): Promise<number[]>;
  detokenize(tokens: number[]): Promise<string>;
  embed(p: EmbedParams): Promise<EmbedResult>;
  /** Scores documents against a query with a reranking (rank-pooled) model. */
  rerank(p: RerankParams): Promise<RerankResult>;
  dispose(): Promise<void>;
  /** Synchronous kill of any engine process, for a runner that is exiting; optional. */
  killNow?(): void;
}

/** An error the runner reports with an HTTP status (others become 500). */
export class EngineError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export const PROMPT_TOO_LONG =
  "the prompt is longer than the context length currently available to the model; shorten the prompt, adjust the context length in settings, or use a model with a longer context length";
export const INPUT_TOO_LONG = "the input length exceeds the context length";

/** What a driver without log probabilities or reranking answers. */
export const needsLlamaServer = (what: string) => new EngineError(400, `${what} requires the llama-server engine`);
