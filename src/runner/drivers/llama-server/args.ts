// The llama-server command line for a model: every setting explicit, so llama-server's own
// defaults (threads, context, sampling, fitting) never decide for corral.
import type { LoadParams, LlamaServerParams } from "../../protocol.js";

/** A generating instance, a pooled-embedding one, or one that scores query/document pairs (rank pooling). */
export type InstanceKind = "generate" | "embed" | "rerank";

export function serverArgs(p: LoadParams, ls: LlamaServerParams, kind: InstanceKind): string[] {
  const parallel = Math.max(1, p.parallel);
  const args = [
    "--model", p.modelPath,
    "--threads", String(Math.max(1, p.threads)),
    "--threads-batch", String(Math.max(1, p.batchThreads)),
    // The KV cache holds num_ctx tokens for each slot.
    "--ctx-size", String(p.contextSize * parallel),
    "--parallel", String(parallel),
    "--no-kv-unified",
    "--batch-size", String(p.batchSize),
    "--ubatch-size", String(Math.min(p.batchSize, 512)),
    // num_gpu -1: llama.cpp fits as many layers as the GPUs hold (it never resizes the context we set).
    "--gpu-layers", ls.gpuLayers < 0 ? "auto" : String(ls.gpuLayers),
    "--fit", ls.gpuLayers < 0 ? "on" : "off",
    "--main-gpu", String(ls.mainGpu),
    "--split-mode", ls.spread ? "layer" : "none",
    "--cache-type-k", ls.kvCacheType,
    "--cache-type-v", ls.kvCacheType,
    "--no-webui",
    "--no-warmup",
    "--slots",
    "--metrics",
  ];
  // Unset, flash attention is llama.cpp's choice (on where supported). Off, a CPU decodes models with
  // very narrow heads faster (stories260K at depth 1536: 955 against 249 tok/s), but its softmax then
  // runs over the padded KV window, so a sequence decoded beside others no longer gives exactly the
  // tokens it gives alone; greedy answers must not depend on who else is being served.
  if (ls.flashAttention !== undefined) args.push("--flash-attn", ls.flashAttention ? "on" : "off");
  else if (ls.kvCacheType !== "f16") args.push("--flash-attn", "on"); // a quantized V cache needs it
  if (ls.gpuLayers < 0 && ls.gpuOverhead > 0) args.push("--fit-target", String(Math.ceil(ls.gpuOverhead / 2 ** 20)));
  if (p.useMmap === false) args.push("--no-mmap");
  if (ls.rpcServers.length > 0) args.push("--rpc", ls.rpcServers.join(","));
  // With several users, a slot keeps its own prefix unless a prompt mostly matches it.
  if (ls.multiuserCache) args.push("--slot-prompt-similarity", "0.5");
  for (const a of p.adapters) args.push("--lora-scaled", `${a.path}:${a.scale}`);
  if (kind === "embed" || kind === "rerank") {
    // One ubatch must hold a whole input for pooled embeddings.
    args.push("--embeddings", "--ubatch-size", String(p.contextSize), "--batch-size", String(p.contextSize));
    if (kind === "rerank") args.push("--reranking");
    // Generative models have no pooling of their own: the last token's state is their embedding.
    if (!p.embedding) args.push("--pooling", "last");
  } else {
    // Ollama keeps generating past a full window by dropping old tokens.
    args.push("--context-shift");
    if (p.projectorPath) {
      args.push("--mmproj", p.projectorPath);
      // The projector goes where the layers go: nowhere but the CPU when no layer is offloaded.
      if (ls.gpuLayers === 0) args.push("--no-mmproj-offload");
    }
    if (ls.draft) {
      args.push("--spec-draft-model", ls.draft.path, "--spec-draft-n-max", String(ls.draft.maxTokens));
      args.push("--spec-draft-ngl", ls.gpuLayers < 0 ? "auto" : String(ls.gpuLayers));
      args.push("--spec-draft-threads", String(Math.max(1, p.threads)), "--spec-draft-threads-batch", String(Math.max(1, p.batchThreads)));
    }
  }
  if (!ls.debug) args.push("--log-verbosity", "3");
  return args;
}
