// How a request and a model turn into runner settings: options merged (defaults <- model
// parameters <- request), num_ctx resolved and capped, threads defaulted to the physical cores.
import { applyOptions, defaultOptions, type Options } from "../../api/options.js";
import { DEFAULT_CONTEXT_LENGTH } from "../../config.js";
import type { LoadParams } from "../../runner/protocol.js";
import type { StoredModel } from "../../store/model.js";
import type { ModelFacts } from "../model-facts.js";
import type { ServerContext } from "./context.js";

export function mergedOptions(model: StoredModel, requestOptions: Record<string, unknown> | undefined): Options {
  return applyOptions(applyOptions(defaultOptions(), model.params), requestOptions);
}

export function loadParams(ctx: ServerContext, model: StoredModel & { modelPath: string }, facts: ModelFacts, options: Options): LoadParams {
  let numCtx = options.num_ctx > 0 ? options.num_ctx : ctx.config.contextLength || DEFAULT_CONTEXT_LENGTH;
  if (facts.contextLength) numCtx = Math.min(numCtx, facts.contextLength);
  numCtx = Math.max(4, numCtx);
  return {
    modelPath: model.modelPath,
    adapters: model.adapterPaths.map((path) => ({ path, scale: 1 })),
    contextSize: numCtx,
    batchSize: Math.max(1, Math.min(options.num_batch > 0 ? options.num_batch : 512, numCtx)),
    // Ollama runs embedding-only models with one slot.
    parallel: facts.hasPooling ? 1 : ctx.config.numParallel,
    threads: options.num_thread > 0 ? options.num_thread : ctx.threads,
    useMmap: options.use_mmap,
  };
}
