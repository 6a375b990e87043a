// Log probabilities from the runner in Ollama's shape (api.Logprob): empty bytes and an empty
// alternatives list are omitted, as Go's omitempty does.
import type { Logprob, TokenLogprob } from "../../api/inference.js";
import type { Logprob as RunnerLogprob, TokenLogprob as RunnerTokenLogprob } from "../../runner/protocol.js";

const token = (t: RunnerTokenLogprob): TokenLogprob => ({
  token: t.token,
  logprob: t.logprob,
  bytes: t.bytes.length ? t.bytes : undefined,
});

/** The chunk's `logprobs`: undefined when there are none. */
export function apiLogprobs(list: RunnerLogprob[] | undefined): Logprob[] | undefined {
  if (!list?.length) return undefined;
  return list.map((l) => ({ ...token(l), top_logprobs: l.top.length ? l.top.map(token) : undefined }));
}

/** A non-streaming answer's `logprobs`: every chunk's, in order; undefined when there are none. */
export function joinLogprobs(chunks: { logprobs?: Logprob[] }[]): Logprob[] | undefined {
  const all = chunks.flatMap((c) => c.logprobs ?? []);
  return all.length ? all : undefined;
}
