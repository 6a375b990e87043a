// How a request and a model turn into runner settings: options merged (defaults <- model
// parameters <- request), num_ctx resolved and capped, the engine chosen, threads and parallel
// slots sized for the machine.
import { statSync } from "node:fs";
import { totalmem } from "node:os";
import { ApiError } from "../../api/errors.js";
import { applyOptions, defaultOptions, type Options } from "../../api/options.js";
import { DEFAULT_CONTEXT_LENGTH, type Config } from "../../config.js";
import { detectGpu } from "../../engine/gpu.js";
import { selectEngine } from "../../engine/select.js";
import type { LoadParams } from "../../runner/protocol.js";
import { chooseThreads } from "../../runner/threads.js";
import { estimateLoad, estimateMemory } from "../../scheduler/memory.js";
import type { StoredModel } from "../../store/model.js";
import type { ModelFacts } from "../model-facts.js";
import type { ServerContext } from "./context.js";

/** Parallel slots when OLLAMA_NUM_PARALLEL is unset and memory allows (Ollama's default). */
const AUTO_PARALLEL = 4;
/** draft_num_predict when unset on a model with a draft (Ollama's default). */
const DEFAULT_DRAFT_TOKENS = 4;
/**
 * Share of the machine's memory the weights and KV caches of one model may take when choosing slots.
 * Total, not free, memory: the choice must not change from one request to the next, or the model
 * would be reloaded for a different slot count.
 */
const MEMORY_SHARE = 0.5;

export function mergedOptions(model: StoredModel, requestOptions: Record<string, unknown> | undefined): Options {
  return applyOptions(applyOptions(defaultOptions(), model.params), requestOptions);
}

/** OLLAMA_NUM_PARALLEL, or 4 slots when the weights and four KV caches fit in half the memory, else fewer. */
export function parallelSlots(config: Config, facts: ModelFacts, modelBytes: number, numCtx: number): number {
  if (config.numParallel > 0) return config.numParallel;
  // Ollama runs embedding-only models with one slot.
  if (facts.hasPooling) return 1;
  const budget = totalmem() * MEMORY_SHARE;
  const need = (parallel: number) =>
    estimateMemory({ weightsBytes: modelBytes, kvBytesPerToken: facts.kvBytesPerToken, contextSize: numCtx, parallel });
  for (let n = AUTO_PARALLEL; n > 1; n /= 2) if (need(n) <= budget) return n;
  return 1;
}

/** Bytes the runner will need (weights and every slot's KV cache): what the scheduler checks against free memory. */
export function memoryEstimate(params: LoadParams, facts: ModelFacts): number {
  return estimateLoad(params, facts.kvBytesPerToken, fileSize);
}

function fileSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

export function loadParams(ctx: ServerContext, model: StoredModel & { modelPath: string }, facts: ModelFacts, options: Options): LoadParams {
  let numCtx = options.num_ctx > 0 ? options.num_ctx : ctx.config.contextLength || DEFAULT_CONTEXT_LENGTH;
  // Ollama gives vision models at least 2048 tokens: one image alone may take hundreds.
  if (model.projectorPaths.length > 0) numCtx = Math.max(2048, numCtx);
  if (facts.contextLength) numCtx = Math.min(numCtx, facts.contextLength);
  numCtx = Math.max(4, numCtx);
  const modelBytes = fileSize(model.modelPath);
  const { threads, batchThreads } = chooseThreads(ctx.threads, modelBytes, options.num_thread);
  let engine;
  try {
    engine = selectEngine(ctx.config.engine, ctx.config.engineCache);
  } catch (e) {
    throw new ApiError(500, (e as Error).message);
  }
  const c = ctx.config;
  const gpu = engine.driver === "llama-server" && engine.build.flavour === "cuda" && detectGpu().nvidia;
  return {
    driver: engine.driver,
    modelPath: model.modelPath,
    adapters: model.adapterPaths.map((path) => ({ path, scale: 1 })),
    // node-llama-cpp cannot load a projector; images are refused before they reach it.
    projectorPath: engine.driver === "llama-server" ? model.projectorPaths[0] : undefined,
    contextSize: numCtx,
    batchSize: Math.max(1, Math.min(options.num_batch > 0 ? options.num_batch : 512, numCtx)),
    parallel: parallelSlots(c, facts, modelBytes, numCtx),
    threads,
    batchThreads,
    useMmap: options.use_mmap,
    embedding: facts.hasPooling,
    llamaServer:
      engine.driver === "llama-server"
        ? {
            binary: engine.build.bin("llama-server"),
            // Without a GPU (or RPC workers) there is nothing to offload to.
            gpuLayers: gpu || c.rpcServers.length > 0 ? options.num_gpu : 0,
            gpuAvailable: gpu,
            mainGpu: options.main_gpu,
            spread: c.schedSpread,
            flashAttention: c.flashAttention,
            kvCacheType: c.kvCacheType,
            gpuOverhead: c.gpuOverhead,
            rpcServers: c.rpcServers,
            draft: model.draftPath ? { path: model.draftPath, maxTokens: (options.draft_num_predict ?? 0) > 0 ? options.draft_num_predict! : DEFAULT_DRAFT_TOKENS } : undefined,
            multiuserCache: c.multiuserCache,
            debug: c.debug,
          }
        : undefined,
  };
}
