// Ollama's log probabilities in OpenAI's two shapes: chat's `{content:[{token, logprob, bytes,
// top_logprobs}]}` and the legacy completions' parallel lists `{tokens, token_logprobs, top_logprobs,
// text_offset}`. A completion carries both: OpenAI's clients read the lists, while Ollama's own
// /v1/completions answers chat's `content`, which scripts written against Ollama read.
import type { Logprob, TokenLogprob } from "../../api/inference.js";

const chatToken = (t: TokenLogprob) => ({ token: t.token, logprob: t.logprob, bytes: t.bytes ?? null });

/** A chat choice's `logprobs`, or undefined when there are none. */
export function chatLogprobs(list: Logprob[] | undefined) {
  if (!list?.length) return undefined;
  return { content: list.map((l) => ({ ...chatToken(l), top_logprobs: (l.top_logprobs ?? []).map(chatToken) })) };
}

/**
 * A completion choice's `logprobs`: the legacy lists, and chat's `content` beside them. `offset` is
 * where the first token starts in the whole answer (in characters), so the offsets of a stream
 * continue from chunk to chunk.
 */
export function completionLogprobs(list: Logprob[] | undefined, offset = 0) {
  if (!list?.length) return undefined;
  const text_offset: number[] = [];
  let at = offset;
  for (const l of list) {
    text_offset.push(at);
    at += [...l.token].length;
  }
  return {
    tokens: list.map((l) => l.token),
    token_logprobs: list.map((l) => l.logprob),
    top_logprobs: list.map((l) => Object.fromEntries((l.top_logprobs ?? []).map((t) => [t.token, t.logprob]))),
    text_offset,
    ...chatLogprobs(list),
  };
}
