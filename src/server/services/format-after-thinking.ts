// `format` on a thinking model, as Ollama does it: a grammar from the first token would forbid the
// thinking block, so the model first thinks unconstrained; when its content begins, that pass stops
// (its content is dropped), the prompt is rendered again with the thinking as the assistant's message,
// and a second pass under the grammar writes the content.
import type { Format } from "../../api/inference.js";
import { isEmpty, OutputParser, type OutputDelta, type OutputOptions } from "../../prompt/output.js";
import type { GenerateParams, GenerateStats, Logprob } from "../../runner/protocol.js";
import type { Lease } from "../../scheduler/scheduler.js";
import { AsyncQueue } from "../async-queue.js";
import type { Capability } from "../capabilities.js";

/** Whether a request takes the two passes: a format, a thinking model, and thinking parsed from its output. */
export function formatsAfterThinking(format: Format | undefined, caps: Capability[], output: OutputOptions): boolean {
  return format !== undefined && caps.includes("thinking") && output.thinking !== undefined;
}

export interface TwoPasses<T> {
  lease: Lease;
  /** The request's generation, grammar included (the second pass's). */
  params: GenerateParams;
  signal: AbortSignal;
  output: OutputOptions;
  /** The prompt once the assistant has thought `thinking`. */
  rerender: (thinking: string) => Promise<string>;
  /** A chunk from parsed output, with the log probabilities of the tokens that made it (when asked). */
  chunk: (d: OutputDelta, logprobs?: Logprob[]) => T | undefined;
  final: (d: OutputDelta, stats: GenerateStats) => T;
}

/** One generation's text, as it comes; `stop` ends it early (its stats still come). */
function run(lease: Lease, params: GenerateParams, signal: AbortSignal) {
  const ac = new AbortController();
  const forward = () => ac.abort();
  signal.addEventListener("abort", forward, { once: true });
  if (signal.aborted) ac.abort();
  const texts = new AsyncQueue<{ text: string; logprobs?: Logprob[] }>();
  const done = lease.runner.generate(params, { signal: ac.signal, onToken: (text, logprobs) => texts.push({ text, logprobs }) });
  done.then(() => texts.end(), (e) => texts.fail(e));
  const stats = done.finally(() => signal.removeEventListener("abort", forward));
  stats.catch(() => {}); // a failure reaches the reader through `texts`
  return { texts, stats, stop: () => ac.abort() };
}

export async function* formatAfterThinking<T>(x: TwoPasses<T>): AsyncGenerator<T> {
  try {
    // Pass 1: no grammar, streamed whatever the client asked, so it can stop where the content starts.
    const first = run(x.lease, { ...x.params, grammar: undefined, stream: true, returnContext: false }, x.signal);
    const parser = new OutputParser(x.output);
    let thought = "";
    let switched = false;
    for await (const { text, logprobs } of first.texts) {
      if (switched || !text) continue;
      const d = parser.push(text);
      let lps = logprobs;
      thought += d.thinking;
      if (thought && (d.content || d.calls.length > 0)) {
        // The content began: keep the thinking of this piece, drop the rest.
        switched = true;
        first.stop();
        d.content = "";
        d.calls = [];
        // Its tokens also spell the dropped content, so they are not reported.
        lps = undefined;
      }
      const c = isEmpty(d) && !lps?.length ? undefined : x.chunk(d, lps);
      if (c) yield c;
    }
    const firstStats = await first.stats;
    if (!switched || x.signal.aborted) {
      // It never got past thinking (or the client left): no content for a grammar to shape.
      yield x.final(parser.finish(), firstStats);
      return;
    }

    // Pass 2: the thinking is part of the prompt now, so everything generated is content.
    const prompt = await x.rerender(thought);
    const second = run(x.lease, { ...x.params, prompt }, x.signal);
    const content = new OutputParser({ tools: x.output.tools });
    for await (const { text, logprobs } of second.texts) {
      const d = text || logprobs?.length ? content.push(text) : undefined;
      const c = d && (!isEmpty(d) || logprobs?.length) ? x.chunk(d, logprobs) : undefined;
      if (c) yield c;
    }
    yield x.final(content.finish(), await second.stats);
  } finally {
    x.lease.release();
  }
}
