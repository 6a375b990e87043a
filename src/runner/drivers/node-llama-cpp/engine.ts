// The node-llama-cpp driver: the only module in corral that imports node-llama-cpp. It runs inside
// the runner child process and turns protocol parameters into llama.cpp calls, Ollama's way.
import {
  getLlama,
  LlamaCompletion,
  LlamaLogLevel,
  LlamaVocabularyType,
  TokenBias,
  type Llama,
  type LlamaContext,
  type LlamaContextSequence,
  type LlamaEmbeddingContext,
  type LlamaGrammar,
  type LlamaModel,
  type Token,
} from "node-llama-cpp";
import type {
  EmbedParams,
  EmbedResult,
  GenerateParams,
  GenerateStats,
  GrammarSpec,
  LoadedInfo,
  LoadParams,
  RerankResult,
  SamplingOptions,
} from "../../protocol.js";
import { IMAGES_NEED_LLAMA_SERVER } from "../../protocol.js";
import { EngineError, INPUT_TOO_LONG, needsLlamaServer, PROMPT_TOO_LONG, type Engine } from "../engine.js";
import { StopFilter } from "../stop-filter.js";

const SCHEMA_CACHE_MAX = 32;

/** One context sequence with its completion driver; LlamaCompletion reuses the KV prefix it holds. */
type Slot = LlamaCompletion;

/** A prompt as tokens, or the two sides of a fill-in-the-middle gap. */
type CompletionInput = { tokens: Token[] } | { prefix: Token[]; suffix: Token[] };

export class NodeLlamaCppEngine implements Engine {
  private readonly free: Slot[];
  private readonly waiters: ((slot: Slot) => void)[] = [];
  private readonly schemaGrammars = new Map<string, Promise<LlamaGrammar>>();
  /** Each slot's sequence, to see how much of a prompt its KV cache already holds. */
  private readonly sequences = new Map<Slot, LlamaContextSequence>();
  private embedding?: Promise<LlamaEmbeddingContext[]>;
  /** The token LlamaCompletion prepends to every input, or null. */
  private readonly bos: Token | null;
  readonly info: LoadedInfo;

  private constructor(
    private readonly llama: Llama,
    private readonly model: LlamaModel,
    private readonly context: LlamaContext,
    private readonly params: LoadParams,
  ) {
    this.free = Array.from({ length: params.parallel }, () => {
      const sequence = context.getSequence();
      const slot = new LlamaCompletion({ contextSequence: sequence });
      this.sequences.set(slot, sequence);
      return slot;
    });
    // Mirrors node-llama-cpp's resolveBeginningTokenToPrepend (not exported): LlamaCompletion
    // prepends this token to token input itself, so our own tokens must not start with it.
    const t = model.tokens;
    const vt = model.vocabularyType;
    this.bos =
      vt === LlamaVocabularyType.rwkv || vt === LlamaVocabularyType.ugm
        ? null
        : vt === LlamaVocabularyType.wpm || t.shouldPrependBosToken
          ? t.bos
          : null;
    const text = (tok: Token | null) => (tok == null ? "" : model.detokenize([tok], true));
    this.info = {
      contextSize: context.contextSize,
      trainContextSize: model.trainContextSize,
      memoryBytes: model.size + context.memoryUsage.ram,
      vramBytes: model.memoryUsage.vram + context.memoryUsage.vram,
      bosText: text(t.bos),
      eosText: text(t.eos),
      addBos: this.bos != null,
    };
  }

  static async load(params: LoadParams, debug = false): Promise<NodeLlamaCppEngine> {
    const threads = Math.max(1, Math.floor(params.threads));
    const llama = await getLlama({
      gpu: "auto",
      build: "never",
      // Explicit: node-llama-cpp defaults to max(cores, 4), and oversubscription stalls ggml's spin-waiting pool.
      maxThreads: threads,
      logLevel: debug ? LlamaLogLevel.debug : LlamaLogLevel.warn,
      // stdout of the child is not ours to fill; the parent decides what to do with stderr.
      logger: (level, message) => process.stderr.write(`[llama ${level}] ${message.endsWith("\n") ? message : message + "\n"}`),
    });
    try {
      const model = await llama.loadModel({ modelPath: params.modelPath, useMmap: params.useMmap });
      const context = await model.createContext({
        contextSize: params.contextSize,
        batchSize: params.batchSize,
        threads,
        sequences: Math.max(1, params.parallel),
        ...(params.adapters.length > 0
          ? { lora: { adapters: params.adapters.map((a) => ({ filePath: a.path, scale: a.scale })) } }
          : {}),
      });
      return new NodeLlamaCppEngine(llama, model, context, { ...params, threads, parallel: Math.max(1, params.parallel) });
    } catch (e) {
      await llama.dispose().catch(() => {});
      throw e;
    }
  }

  /** Specials parsed, no BOS added (Ollama's /api/tokenize and `context` semantics). */
  async tokenize(text: string): Promise<number[]> {
    return this.model.tokenize(text, true);
  }

  async detokenize(tokens: number[]): Promise<string> {
    return this.model.detokenize(tokens as Token[], true);
  }

  async generate(p: GenerateParams, signal: AbortSignal, onText: (text: string) => void): Promise<GenerateStats> {
    if (p.images?.length) throw new EngineError(400, IMAGES_NEED_LLAMA_SERVER);
    // Its completion API gives no per-token probabilities (only post-sampler ones, from a loop of our own).
    if (p.logprobs !== undefined) throw needsLlamaServer("logprobs");
    const start = process.hrtime.bigint();
    const ctx = this.context.contextSize;
    const lead = this.bos != null ? 1 : 0;
    let input: CompletionInput;
    let total: number;
    if (p.suffix !== undefined) {
      // Infill: LlamaCompletion lays out [BOS] PRE prefix SUF suffix MID and fits them into the context itself.
      const fim = this.model.tokens.infill;
      if (fim.prefix == null || fim.suffix == null) throw new EngineError(400, "this model has no fill-in-the-middle tokens");
      const prefix = this.model.tokenize(p.prompt, false);
      const suffix = this.model.tokenize(p.suffix, false);
      input = { prefix, suffix };
      total = Math.min(ctx - 1, prefix.length + suffix.length + (fim.middle != null ? 3 : 2) + lead);
    } else {
      let tokens = this.model.tokenize(p.prompt, true);
      // LlamaCompletion always prepends BOS: drop one the prompt text already carries, so there is exactly one.
      if (this.bos != null && tokens[0] === this.bos) tokens = tokens.slice(1);
      total = tokens.length + lead;
      if (total === 0) throw new Error("no input provided");

      // LlamaCompletion keeps room for one generated token (it fits its input into ctx - shiftSize and we make
      // that first shiftSize 1), so the usable prompt window is ctx - 1.
      if (total > ctx - 1) {
        if (!p.shift) {
          if (total > ctx) throw new EngineError(400, PROMPT_TOO_LONG);
          // Exactly full: nothing can be generated, as in Ollama with shift off.
          return { doneReason: "length", promptTokens: total, promptEvalNs: elapsed(start), evalTokens: 0, evalNs: 0 };
        }
        // Ollama's truncation: keep BOS + the first numKeep tokens and the most recent ones.
        const keep = Math.max(0, Math.min(p.numKeep < 0 ? tokens.length : p.numKeep, ctx - 2 - lead));
        const discard = total - (ctx - 1);
        tokens = [...tokens.slice(0, keep), ...tokens.slice(keep + discard)];
        total = tokens.length + lead;
      }
      input = { tokens };
    }

    // One signal for the caller's cancel and our own stop-string stop. It listens from here on, so a cancel
    // that arrives while we wait for the grammar or a free sequence is not lost.
    const ac = new AbortController();
    const forward = () => ac.abort();
    signal.addEventListener("abort", forward, { once: true });
    if (signal.aborted) ac.abort();
    let slot: Slot | null = null;
    try {
      const grammar = p.grammar ? await this.grammar(p.grammar) : undefined;
      slot = await this.acquire(ac.signal);
      // Cancelled before it began: LlamaCompletion would throw on an aborted signal, so answer here.
      if (slot == null || ac.signal.aborted)
        return { doneReason: "stop", promptTokens: total, promptEvalNs: elapsed(start), evalTokens: 0, evalNs: 0 };
      return await this.complete(slot, p, input, total, grammar, ac, start, onText);
    } finally {
      signal.removeEventListener("abort", forward);
      if (slot) this.release(slot);
    }
  }

  private async complete(
    slot: Slot,
    p: GenerateParams,
    input: CompletionInput,
    promptTokens: number,
    grammar: LlamaGrammar | undefined,
    ac: AbortController,
    start: bigint,
    onText: (text: string) => void,
  ): Promise<GenerateStats> {
    const ctx = this.context.contextSize;
    const lead = this.bos != null ? 1 : 0;
    // The sampler calls tokenBias once per sampled token, right after the decode that produced its logits:
    // the first call marks the end of prompt evaluation, and the calls count the generated tokens
    // (including an EOG token, as Ollama's eval_count does).
    const noBias = new TokenBias(this.model.tokenizer);
    let firstToken: bigint | undefined;
    let evalTokens = 0;
    const onSample = () => {
      firstToken ??= process.hrtime.bigint();
      evalTokens++;
      return noBias;
    };
    // First call fits the prompt (window ctx - 1, already ensured above); later calls are real context
    // shifts, where Ollama drops half of the window (LlamaCompletion re-evaluates what it keeps, so a big
    // step is also the cheap one). LlamaCompletion keeps BOS + the newest tokens when it shifts.
    let fitted = false;
    const contextShiftSize = () => {
      if (!fitted) return (fitted = true), 1;
      return Math.max(1, Math.floor((ctx - lead) / 2));
    };
    // Stop strings are matched on text here, not with customStopTriggers: those drop the whole token that
    // holds the stop string, while Ollama keeps the text before it (" Lily" with stop "Lily" leaves " ").
    const stop = new StopFilter(p.stop, onText);
    const reused = "tokens" in input ? reusedPrefix(this.sequences.get(slot)!, this.bos, input.tokens) : 0;

    const options = {
      ...samplingOptions(p.sampling, ctx, "tokens" in input ? input.tokens : input.prefix),
      maxTokens: p.maxTokens > 0 ? p.maxTokens : undefined,
      grammar,
      // With stopOnAbortSignal the loop ends right after the token whose text hit the stop string.
      signal: ac.signal,
      stopOnAbortSignal: true,
      disableContextShift: !p.shift,
      contextShiftSize,
      tokenBias: onSample,
      onTextChunk: (text: string) => {
        if (stop.push(text)) ac.abort();
      },
    };
    const res =
      "tokens" in input
        ? await slot.generateCompletionWithMeta(input.tokens, options)
        : await slot.generateInfillCompletionWithMeta(input.prefix, input.suffix, options);
    stop.flush();
    const end = process.hrtime.bigint();
    const stats: GenerateStats = {
      doneReason: res.metadata.stopReason === "maxTokens" && !stop.stopped ? "length" : "stop",
      promptTokens,
      promptEvalTokens: promptTokens - reused,
      promptEvalNs: Number((firstToken ?? end) - start),
      evalTokens,
      evalNs: firstToken == null ? 0 : Number(end - firstToken),
    };
    if (p.returnContext) stats.context = this.model.tokenize(p.prompt + stop.text, true);
    return stats;
  }

  async rerank(): Promise<RerankResult> {
    throw needsLlamaServer("rerank");
  }

  async embed(p: EmbedParams): Promise<EmbedResult> {
    const contexts = await this.embeddingContexts();
    // LlamaEmbeddingContext rejects inputs of length >= its context size (BOS/EOS included); its size is
    // rounded like the generation context's.
    const limit = this.context.contextSize - 1;
    const inputs = p.inputs.map((input) => {
      let tokens = this.model.tokenize(input, true);
      const len = contexts[0]!.calculateInputLength(tokens);
      if (len > limit) {
        if (!p.truncate) throw new EngineError(400, INPUT_TOO_LONG);
        tokens = tokens.slice(0, Math.max(0, tokens.length - (len - limit)));
      }
      return tokens;
    });
    const embeddings: number[][] = new Array(inputs.length);
    // Each context takes the next input as soon as it is free, so the contexts decode side by side.
    let next = 0;
    await Promise.all(
      contexts.map(async (ectx) => {
        for (let i = next++; i < inputs.length; i = next++) {
          embeddings[i] = [...(await ectx.getEmbeddingFor(inputs[i]!)).vector];
        }
      }),
    );
    const promptTokens = inputs.reduce((n, tokens) => n + contexts[0]!.calculateInputLength(tokens), 0);
    return { embeddings, promptTokens };
  }

  /**
   * Embedding contexts, created on first use. node-llama-cpp's embedding context evaluates one input at a
   * time, so a batch is spread over one context per thread (each with one thread: no oversubscription).
   */
  private embeddingContexts(): Promise<LlamaEmbeddingContext[]> {
    const count = Math.max(1, Math.min(this.params.threads, 4));
    this.embedding ??= Promise.all(
      Array.from({ length: count }, () =>
        this.model.createEmbeddingContext({
          contextSize: this.params.contextSize,
          // One ubatch must hold a whole input for pooled (non-causal) embeddings.
          batchSize: this.params.contextSize,
          threads: Math.max(1, Math.floor(this.params.threads / count)),
        }),
      ),
    );
    return this.embedding;
  }

  async dispose(): Promise<void> {
    for (const e of (await this.embedding?.catch(() => undefined)) ?? []) await e.dispose();
    await this.context.dispose();
    await this.model.dispose();
    await this.llama.dispose();
  }

  private grammar(spec: GrammarSpec): Promise<LlamaGrammar> {
    if (spec.kind === "json") return this.llama.getGrammarFor("json");
    const key = JSON.stringify(spec.schema);
    let g = this.schemaGrammars.get(key);
    if (g == null) {
      // The schema type is checked at runtime by node-llama-cpp; the protocol carries plain JSON.
      g = this.llama.createGrammarForJsonSchema(spec.schema as never) as Promise<LlamaGrammar>;
      g.catch(() => this.schemaGrammars.delete(key));
      if (this.schemaGrammars.size >= SCHEMA_CACHE_MAX) this.schemaGrammars.delete(this.schemaGrammars.keys().next().value!);
      this.schemaGrammars.set(key, g);
    }
    return g;
  }

  /** A free sequence (prefix reuse happens inside LlamaCompletion), or null when aborted while waiting. */
  private acquire(signal: AbortSignal): Promise<Slot | null> {
    if (signal.aborted) return Promise.resolve(null);
    const slot = this.free.pop();
    if (slot) return Promise.resolve(slot);
    return new Promise((resolve) => {
      const waiter = (s: Slot) => {
        signal.removeEventListener("abort", onAbort);
        resolve(s);
      };
      const onAbort = () => {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        resolve(null);
      };
      signal.addEventListener("abort", onAbort, { once: true });
      this.waiters.push(waiter);
    });
  }

  private release(slot: Slot): void {
    const next = this.waiters.shift();
    if (next) next(slot);
    else this.free.push(slot);
  }
}

function elapsed(start: bigint): number {
  return Number(process.hrtime.bigint() - start);
}

/** Ollama's sampling options in node-llama-cpp terms. */
function samplingOptions(s: SamplingOptions, ctx: number, prompt: Token[]) {
  const lastN = s.repeatLastN < 0 ? ctx : s.repeatLastN;
  const penaltyOff = (s.repeatPenalty === 1 && s.presencePenalty === 0 && s.frequencyPenalty === 0) || lastN === 0;
  return {
    temperature: Math.max(0, s.temperature),
    // Ollama/llama.cpp: top_k <= 0 disables it; node-llama-cpp's 0 means "full vocabulary", the same thing.
    topK: s.topK > 0 ? Math.floor(s.topK) : 0,
    topP: Math.min(1, Math.max(0, s.topP)),
    minP: Math.min(1, Math.max(0, s.minP)),
    // Go's uint32(seed): wrap, never node-llama-cpp's per-second default.
    seed: Math.trunc(s.seed) >>> 0,
    // node-llama-cpp penalizes by default (1.1 over 64), so switch it off explicitly.
    repeatPenalty: penaltyOff
      ? (false as const)
      : {
          penalty: s.repeatPenalty,
          lastTokens: lastN,
          presencePenalty: s.presencePenalty,
          frequencyPenalty: s.frequencyPenalty,
          // llama.cpp (and so Ollama) no longer treats newline specially: it is penalized like any token.
          penalizeNewLine: true,
          // node-llama-cpp's window holds generated tokens only; llama.cpp's also holds the prompt.
          punishTokensFilter: (generated: Token[]) =>
            generated.length >= lastN ? generated : [...prompt.slice(-(lastN - generated.length)), ...generated],
        },
  };
}

/**
 * Prompt tokens LlamaCompletion will take from the sequence's KV cache rather than evaluate: the
 * common prefix with what it holds, less the last prompt token, which is always decoded for logits.
 */
function reusedPrefix(sequence: LlamaContextSequence, bos: Token | null, tokens: Token[]): number {
  const full = bos != null ? [bos, ...tokens] : tokens;
  const { firstDifferentIndex } = sequence.compareContextTokens(full);
  return Math.max(0, Math.min(firstDifferentIndex, full.length - 1));
}
