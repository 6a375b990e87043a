// The thread rule, in one place. llama.cpp's threads spin while they wait, so a thread more than
// the cores can run is a thread that steals time from the rest: never more than the physical cores.
//
// Decoding one token of a small model is so little work that handing it to several threads costs
// more in synchronisation than it saves; measured with llama-bench on 2 cores, a ~1 MB model
// decodes fastest on one thread and models from about SMALL_MODEL_BYTES up gain from every core.
// Prompt processing (batches) always uses every physical core.

/** Weights below this size decode on one thread. */
export const SMALL_MODEL_BYTES = 64 * 2 ** 20;

export interface ThreadChoice {
  /** Threads while generating (one token a step). */
  threads: number;
  /** Threads while evaluating a prompt (many tokens a step). */
  batchThreads: number;
}

export function chooseThreads(physicalCores: number, modelBytes: number, numThread?: number): ThreadChoice {
  const cores = Math.max(1, Math.floor(physicalCores));
  // An explicit num_thread is the user's call, for both phases.
  if (numThread !== undefined && numThread > 0) return { threads: Math.floor(numThread), batchThreads: Math.floor(numThread) };
  return { threads: modelBytes < SMALL_MODEL_BYTES ? 1 : cores, batchThreads: cores };
}
