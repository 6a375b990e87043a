// Loads a GGUF in a real runner and decodes greedily: the "does it load and generate" check for
// models produced by the quantizer, the safetensors converter and LoRA adapters.
import { startRunner } from "../../src/runner/client.js";
import type { SamplingOptions } from "../../src/runner/protocol.js";
import { loadFor } from "./engine.js";

const GREEDY: SamplingOptions = {
  temperature: 0, topK: 1, topP: 1, minP: 0, seed: 1,
  repeatPenalty: 1, repeatLastN: 0, presencePenalty: 0, frequencyPenalty: 0,
};

export interface GreedyRun {
  text: string;
  /** Prompt and generated token ids (as the runner reports the context). */
  tokens: number[];
  evalTokens: number;
}

export async function greedy(
  modelPath: string,
  opts: { prompt?: string; maxTokens?: number; adapters?: { path: string; scale: number }[] } = {},
): Promise<GreedyRun> {
  const r = await startRunner(loadFor({
    modelPath, adapters: opts.adapters ?? [], contextSize: 256, batchSize: 256, parallel: 1, threads: 1,
  }));
  try {
    let text = "";
    const stats = await r.generate(
      {
        prompt: opts.prompt ?? "Once upon a time", maxTokens: opts.maxTokens ?? 16, stop: [], sampling: GREEDY,
        numKeep: 0, shift: true, returnContext: true,
      },
      { onToken: (t) => (text += t) },
    );
    return { text, tokens: stats.context ?? [], evalTokens: stats.evalTokens };
  } finally {
    await r.close();
  }
}
