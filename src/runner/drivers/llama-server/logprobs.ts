// llama-server's `completion_probabilities` as protocol log probabilities. llama-server reports, for
// each token it emits, the probability the model gave it before sampling, and the `n_probs` most
// likely tokens at that position.
import type { Logprob, TokenLogprob } from "../../protocol.js";

/** One entry of llama-server's `completion_probabilities` (pre-sampling mode). */
export interface TokenProbability {
  id: number;
  /** The text sent for this token (held-back text of earlier tokens included), cut to whole UTF-8 characters. */
  token: string;
  bytes: number[];
  logprob: number;
  top_logprobs?: { id: number; token: string; bytes: number[]; logprob: number }[];
}

/** The `n_probs` to ask for: at least one, so the chosen token's own probability is reported. */
export const nProbs = (top: number | undefined) => (top === undefined ? 0 : Math.max(1, Math.min(20, top)));

const entry = (p: { token: string; bytes: number[]; logprob: number }): TokenLogprob => ({
  token: p.token,
  logprob: p.logprob,
  bytes: p.bytes,
});

/**
 * Entries for tokens whose text was sent: text held back to match a stop string, or the bytes of a
 * character split across tokens, belong to the token that finally sends them.
 */
export function toLogprobs(probs: TokenProbability[] | undefined, top: number): Logprob[] {
  return (probs ?? []).filter((p) => p.token !== "").map((p) => ({ ...entry(p), top: (p.top_logprobs ?? []).slice(0, top).map(entry) }));
}
