// The thread rule, in one place. llama.cpp's threads spin while they wait, so a thread more than
// the cores can run is a thread that steals time from the rest: never more than the physical cores.
//
// Decoding one token of a small model is so little work that handing it to several threads costs
// more in synchronisation than it saves. llama-bench tg128 on 2 cores, 1 thread / 2 threads:
//   stories260K (1 MB)            5,458 / 3,054 tok/s
//   58M params Q4_K_M (37 MB)       614 /   553
//   134M params Q8_0 (143 MB)       197 /   213
//   1.1B params Q4_K_M (676 MB)     35.6 /  52.3
// so the crossover lies between 37 and 143 MB; corral's own processes share those cores too, which
// moves it up rather than down. Prompt processing (batches) always uses every physical core.

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
