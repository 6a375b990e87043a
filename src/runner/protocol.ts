// The typed IPC protocol between the server and a runner child process.
// It is the only boundary to native inference code: no node-llama-cpp type crosses it, so another
// engine driver can sit behind it unchanged. Bump the version on any incompatible change.
export const RUNNER_PROTOCOL_VERSION = 2;

/** The engine drivers a runner can host. */
export type DriverName = "llama-server" | "node-llama-cpp";

export interface LoadParams {
  /** Which engine driver runs the model. */
  driver: DriverName;
  /** Absolute path of the GGUF weights. */
  modelPath: string;
  /** LoRA adapters applied to the context. */
  adapters: { path: string; scale: number }[];
  /** Multimodal projector (mmproj GGUF) for image input; llama-server only. */
  projectorPath?: string;
  /** Context size per sequence (Ollama's num_ctx). */
  contextSize: number;
  /** Logical batch size (num_batch). */
  batchSize: number;
  /** Parallel sequences (OLLAMA_NUM_PARALLEL). */
  parallel: number;
  /** CPU threads for llama.cpp while generating, always explicit. */
  threads: number;
  /** CPU threads for prompt processing (batches), always explicit. */
  batchThreads: number;
  useMmap?: boolean;
  /** A pooled embedding model (BERT and the like): it embeds and never generates. */
  embedding: boolean;
  /** Everything below is for the llama-server driver; node-llama-cpp decides these itself. */
  llamaServer?: LlamaServerParams;
}

export interface LlamaServerParams {
  /** The llama-server binary. */
  binary: string;
  /** Layers to offload to GPUs (Ollama's num_gpu); -1 = as many as fit. */
  gpuLayers: number;
  /** The build has a GPU backend and the machine a GPU for it. */
  gpuAvailable: boolean;
  mainGpu: number;
  /** Spread layers over every GPU (OLLAMA_SCHED_SPREAD) rather than fill the main one. */
  spread: boolean;
  /** Flash attention: on, off or llama.cpp's own choice (undefined). */
  flashAttention?: boolean;
  /** KV cache element type. */
  kvCacheType: "f16" | "q8_0" | "q4_0";
  /** Bytes of GPU memory to leave free. */
  gpuOverhead: number;
  /** llama.cpp RPC workers (host:port) that hold part of the model. */
  rpcServers: string[];
  /** Speculative decoding: the draft model and its tokens per step. */
  draft?: { path: string; maxTokens: number };
  /** Keep each user's prompt prefix in its own slot rather than reuse the most similar one. */
  multiuserCache: boolean;
  /** Show llama-server's log on stderr. */
  debug: boolean;
}

export interface LoadedInfo {
  /** Real per-sequence context size after the engine's rounding. */
  contextSize: number;
  /** Model training context. */
  trainContextSize: number;
  /** Bytes of RAM the model and its context use. */
  memoryBytes: number;
  /** Bytes in GPU memory (0 on CPU). */
  vramBytes: number;
  /** Text of the BOS / EOS tokens (for chat templates), "" when absent. */
  bosText: string;
  eosText: string;
  /** Whether the tokenizer prepends BOS. */
  addBos: boolean;
}

export interface SamplingOptions {
  temperature: number;
  topK: number;
  topP: number;
  minP: number;
  /** Locally typical sampling; 1 (or absent) is off. llama-server only. */
  typicalP?: number;
  /** Always set: the server picks a random seed when the request has none. */
  seed: number;
  repeatPenalty: number;
  /** 0 disables the penalty window. */
  repeatLastN: number;
  presencePenalty: number;
  frequencyPenalty: number;
}

export type GrammarSpec = { kind: "json" } | { kind: "schema"; schema: Record<string, unknown> };

export interface GenerateParams {
  /** Fully rendered prompt; special-token text in it is parsed as special tokens. BOS is added by the runner when the model wants it. */
  prompt: string;
  /**
   * Fill in the middle: when set, `prompt` is the text before the gap and this the text after it, both
   * plain text; the engine lays them out with the model's own FIM tokens.
   */
  suffix?: string;
  /** Maximum tokens to generate; 0 or a negative value means no limit other than the context (as Ollama's runner). */
  maxTokens: number;
  /** Stop strings; generation ends before them and they are not returned. */
  stop: string[];
  sampling: SamplingOptions;
  grammar?: GrammarSpec;
  /** Tokens kept at the start when the context overflows. */
  numKeep: number;
  /** Allow context shifting when the window fills; false stops with "length". */
  shift: boolean;
  /** Return the tokenization of prompt + response in the done stats (Ollama's `context`). */
  returnContext: boolean;
  /** false: the caller wants only the whole answer, so a driver may deliver the text in one piece. */
  stream?: boolean;
  /**
   * Images as base64 PNG; `[img-N]` in `prompt` places image N (ids index this list). An image the
   * prompt does not name is not given to the model.
   */
  images?: string[];
  /** Report each token's log probability with this many alternatives (0..20); absent: none. */
  logprobs?: number;
}

/** One token's text and natural-log probability (before sampling), with its UTF-8 bytes. */
export interface TokenLogprob {
  token: string;
  logprob: number;
  bytes: number[];
}

/** A generated token's log probability and the most likely tokens at its position. */
export interface Logprob extends TokenLogprob {
  top: TokenLogprob[];
}

export type DoneReason = "stop" | "length";

export interface GenerateStats {
  doneReason: DoneReason;
  promptTokens: number;
  /** Prompt tokens actually evaluated: promptTokens less a KV prefix reused from before (absent: all). */
  promptEvalTokens?: number;
  promptEvalNs: number;
  evalTokens: number;
  evalNs: number;
  context?: number[];
}

export interface EmbedParams {
  inputs: string[];
  /** Cut inputs to the context instead of failing. */
  truncate: boolean;
}

export interface EmbedResult {
  /** Raw (unnormalised) vectors, one per input, in order. */
  embeddings: number[][];
  promptTokens: number;
}

export interface RerankParams {
  query: string;
  documents: string[];
}

export interface RerankResult {
  /** One relevance score per document, in document order. */
  scores: number[];
  promptTokens: number;
}

/** Server -> runner. */
export type RunnerRequest =
  | { op: "load"; id: number; version: number; params: LoadParams }
  | { op: "generate"; id: number; params: GenerateParams }
  | { op: "tokenize"; id: number; text: string }
  | { op: "detokenize"; id: number; tokens: number[] }
  | { op: "embed"; id: number; params: EmbedParams }
  | { op: "rerank"; id: number; params: RerankParams }
  | { op: "cancel"; id: number }
  | { op: "unload"; id: number };

/** Runner -> server. `token` and `done` belong to a generate request; `result`/`error` end any request. */
export type RunnerEvent =
  | { ev: "token"; id: number; text: string; logprobs?: Logprob[] }
  | { ev: "done"; id: number; stats: GenerateStats }
  | { ev: "result"; id: number; value: unknown }
  | { ev: "error"; id: number; message: string; status?: number };

/** The message every request fails with when the runner process dies (Ollama's wording). */
export const RUNNER_STOPPED_MESSAGE =
  "model runner has unexpectedly stopped, this may be due to resource limitations or an internal error, check ollama server logs for details";

/** The answer to images on an engine that cannot read them. */
export const IMAGES_NEED_LLAMA_SERVER =
  "images need the llama-server engine: node-llama-cpp has no multimodal support (unset CORRAL_ENGINE or set it to llama-server)";

/** Ollama's answer when a model without a projector is given images. */
export const NO_VISION_MESSAGE = "this model is missing data required for image input";
