// The llama-server driver: llama.cpp's own server runs the model in a process of its own, and this
// driver speaks to it over a private socket. corral still renders every prompt; llama-server gets
// token arrays, samples with every field set explicitly, batches all slots each step and keeps each
// slot's KV prefix for the next request that shares it.
import { statSync } from "node:fs";
import { readGguf } from "../../../gguf/reader.js";
import { contextLength, kvBytesPerToken, kvNumber, kvString, poolingType, RANK_POOLING, tokenText } from "../../../gguf/info.js";
import { nvidiaProcessMemory } from "./gpu-memory.js";
import { jsonGrammar } from "./grammar.js";
import { NO_VISION_MESSAGE, type EmbedParams, type EmbedResult, type GenerateParams, type GenerateStats, type LoadedInfo, type LoadParams, type LlamaServerParams, type RerankParams, type RerankResult } from "../../protocol.js";
import { EngineError, INPUT_TOO_LONG, PROMPT_TOO_LONG, type Engine, type OnText } from "../engine.js";
import { toLogprobs } from "./logprobs.js";
import { rerank } from "./rerank.js";
import { serverArgs } from "./args.js";
import { completionBody, fitPrompt, infillBody, type CompletionEvent } from "./completion.js";
import { LlamaServerProcess } from "./process.js";
import { mediaMarker, mediaPrompt, namesImages } from "./media.js";

export class LlamaServerEngine implements Engine {
  /** For generative models, a second instance with embeddings on, started by the first embed request. */
  private embedder?: Promise<LlamaServerProcess>;
  private disposed = false;
  /** llama-server's media marker, when a projector is loaded. */
  private marker?: string;

  private constructor(
    private readonly params: LoadParams,
    private readonly ls: LlamaServerParams,
    private readonly main: LlamaServerProcess,
    readonly info: LoadedInfo,
    private readonly bos: number | null,
    private readonly spaceFirst: boolean,
    private readonly onDied: () => void,
    /** A reranker (rank pooling): its one instance scores query/document pairs. */
    private readonly ranks: boolean,
  ) {}

  static async load(params: LoadParams, onDied: () => void): Promise<LlamaServerEngine> {
    const ls = params.llamaServer;
    if (!ls) throw new EngineError(500, "the llama-server driver needs its settings");
    const gguf = await readGguf(params.modelPath);
    let engine: LlamaServerEngine | undefined;
    const died = () => {
      if (!engine?.disposed) onDied();
    };
    const ranks = params.embedding && poolingType(gguf) === RANK_POOLING;
    const main = await LlamaServerProcess.start(ls.binary, serverArgs(params, ls, ranks ? "rerank" : params.embedding ? "embed" : "generate"), {
      debug: ls.debug,
      onDied: died,
    });
    try {
      const bosId = kvNumber(gguf, "tokenizer.ggml.bos_token_id");
      // What the tokenizer adds around a text: BOS first when the model wants one.
      const specials = await main.http.json<{ tokens: number[] }>("POST", "/tokenize", { content: "", add_special: true });
      const bos = bosId !== undefined && specials.tokens[0] === bosId ? bosId : null;
      // llama-server does not report its buffers, so size them as llama.cpp lays them out: the weights,
      // and the KV cache of every slot (f16, or half / a quarter of it when quantized).
      const kvScale = { f16: 1, q8_0: 0.53, q4_0: 0.28 }[ls.kvCacheType];
      const kv = kvBytesPerToken(gguf) * params.contextSize * Math.max(1, params.parallel) * kvScale;
      const total = Math.round(statSync(params.modelPath).size + kv);
      const vram = ls.gpuLayers !== 0 && ls.gpuAvailable ? await nvidiaProcessMemory(main.pid) : 0;
      const info: LoadedInfo = {
        contextSize: params.contextSize,
        trainContextSize: contextLength(gguf) ?? params.contextSize,
        // On a GPU the driver's count is the truth for that part; the rest of the estimate stays in RAM.
        memoryBytes: Math.max(total, vram),
        vramBytes: vram,
        bosText: tokenText(gguf, bosId),
        eosText: tokenText(gguf, kvNumber(gguf, "tokenizer.ggml.eos_token_id")),
        addBos: bos != null,
      };
      // SentencePiece vocabularies put a space before the first word; detokenized text drops it, as llama.cpp's own detokenizer does.
      const spaceFirst = kvString(gguf, "tokenizer.ggml.model") === "llama" && gguf.metadata.get("tokenizer.ggml.add_space_prefix")?.value !== false;
      engine = new LlamaServerEngine(params, ls, main, info, bos, spaceFirst, died, ranks);
      if (params.projectorPath) engine.marker = await mediaMarker(main.http);
      if (params.embedding) engine.embedder = Promise.resolve(main);
      return engine;
    } catch (e) {
      await main.stop();
      throw e;
    }
  }

  async tokenize(text: string): Promise<number[]> {
    return (await this.main.http.json<{ tokens: number[] }>("POST", "/tokenize", { content: text, add_special: false, parse_special: true })).tokens;
  }

  async detokenize(tokens: number[]): Promise<string> {
    const text = (await this.main.http.json<{ content: string }>("POST", "/detokenize", { tokens })).content;
    return this.spaceFirst && text.startsWith(" ") ? text.slice(1) : text;
  }

  async generate(p: GenerateParams, signal: AbortSignal, onText: OnText): Promise<GenerateStats> {
    if (this.params.embedding) throw new EngineError(400, "this model does not support generate");
    // llama-server gives the tokens it accepts from a draft no probabilities (it reports them as certain).
    if (p.logprobs !== undefined && this.ls.draft) throw new EngineError(400, "logprobs are not available with a draft model");
    const start = process.hrtime.bigint();
    const ctx = this.params.contextSize;
    let body: Record<string, unknown>;
    let promptTokens: number;
    let nPredict = p.maxTokens > 0 ? p.maxTokens : -1;
    const media = p.suffix === undefined && p.images?.length && namesImages(p.prompt);
    if (media) {
      if (!this.marker) throw new EngineError(400, NO_VISION_MESSAGE);
      // llama.cpp lays out text and image tokens itself; its count (images included) replaces this one.
      body = { prompt: mediaPrompt(p.prompt, p.images!, this.marker, this.info.bosText) };
      promptTokens = 0;
    } else if (p.suffix !== undefined) {
      body = infillBody(p);
      // llama-server lays out the FIM tokens itself; its count replaces this one when it reports.
      promptTokens = (await this.tokenize(p.prompt)).length + (await this.tokenize(p.suffix)).length;
    } else {
      const fitted = fitPrompt(await this.tokenize(p.prompt), this.bos, ctx, p);
      if (fitted === "too-long") throw new EngineError(400, PROMPT_TOO_LONG);
      promptTokens = fitted.length;
      if (!p.shift) {
        // No shifting: generation ends when the window is full.
        const room = ctx - fitted.length;
        if (room <= 0) return { doneReason: "length", promptTokens, promptEvalNs: elapsed(start), evalTokens: 0, evalNs: 0 };
        nPredict = nPredict < 0 ? room : Math.min(nPredict, room);
      }
      body = { prompt: fitted };
    }
    Object.assign(body, completionBody(p, nPredict, ctx, p.grammar?.kind === "json" ? jsonGrammar() : undefined));

    let text = "";
    let evalTokens = 0;
    let firstToken: bigint | undefined;
    let final: CompletionEvent | undefined;
    const path = p.suffix !== undefined ? "/infill" : "/completion";
    const logprobs = (e: CompletionEvent) => (p.logprobs === undefined ? undefined : toLogprobs(e.completion_probabilities, p.logprobs));
    // Log probabilities stream, even for a whole answer: llama-server's whole answer drops the entries of
    // a stop string's tokens, so they would no longer spell the text that was sent.
    if (p.stream === false && p.logprobs === undefined) {
      // One answer at the end: no per-token wake-ups of this process while llama.cpp's threads decode.
      final = await this.completeOrDie(path, { ...body, stream: false }, signal);
      if (final?.content) {
        text = final.content;
        onText(text);
      }
    } else {
      await this.streamOrDie(path, body, signal, (ev) => {
        const e = ev as CompletionEvent;
        if (e.stop) final = e;
        else {
          firstToken ??= process.hrtime.bigint();
          evalTokens++;
        }
        if (e.content) {
          text += e.content;
          onText(e.content, logprobs(e));
        }
      });
    }
    const end = process.hrtime.bigint();
    const t = final?.timings;
    const stats: GenerateStats = {
      doneReason: final?.stop_type === "limit" ? "length" : "stop",
      promptTokens: p.suffix !== undefined || media ? (final?.tokens_evaluated ?? promptTokens) : promptTokens,
      ...(t ? { promptEvalTokens: t.prompt_n } : {}),
      promptEvalNs: t ? Math.round(t.prompt_ms * 1e6) : Number((firstToken ?? end) - start),
      evalTokens: t ? t.predicted_n : evalTokens,
      evalNs: t ? Math.round(t.predicted_ms * 1e6) : firstToken == null ? 0 : Number(end - firstToken),
    };
    if (p.returnContext) stats.context = await this.tokenize(p.prompt + text);
    return stats;
  }

  /** A request broken because llama-server died is the runner's death, reported as such by the server. */
  private async orDie<T>(call: Promise<T>): Promise<T> {
    try {
      return await call;
    } catch (e) {
      if (!(e instanceof EngineError) && (await this.main.exitedWithin(2000))) await new Promise(() => {});
      // Image tokens are laid out by llama-server, so for image prompts only it can tell that they do not fit.
      if (e instanceof EngineError && /exceeds the available context size|larger than the max context size/.test(e.message)) {
        throw new EngineError(400, PROMPT_TOO_LONG);
      }
      throw e;
    }
  }

  private streamOrDie(path: string, body: unknown, signal: AbortSignal, onEvent: (ev: Record<string, unknown>) => void): Promise<void> {
    return this.orDie(this.main.http.stream(path, body, signal, onEvent));
  }

  /** A whole completion; undefined when the caller cancelled it (llama-server stops when the connection closes). */
  private async completeOrDie(path: string, body: unknown, signal: AbortSignal): Promise<CompletionEvent | undefined> {
    try {
      return await this.orDie(this.main.http.json<CompletionEvent>("POST", path, body, signal));
    } catch (e) {
      if (signal.aborted) return undefined;
      throw e;
    }
  }

  async embed(p: EmbedParams): Promise<EmbedResult> {
    const server = await this.embedServer();
    // Inputs are tokenized with the specials the model adds (BOS/EOS, CLS/SEP) and cut to fit one ubatch.
    // llama-server needs one cell more than the input holds.
    const limit = this.params.contextSize - 1;
    const inputs: number[][] = [];
    const tokenize = async (content: string, add_special: boolean) =>
      (await server.http.json<{ tokens: number[] }>("POST", "/tokenize", { content, add_special, parse_special: true })).tokens;
    for (const input of p.inputs) {
      let tokens = await tokenize(input, true);
      if (tokens.length > limit) {
        if (!p.truncate) throw new EngineError(400, INPUT_TOO_LONG);
        // Keep the specials around the text (BOS/CLS before, EOS/SEP after) and cut the text's end.
        const plain = await tokenize(input, false);
        const lead = tokens[0] !== plain[0] ? 1 : 0;
        const trail = tokens.length - plain.length - lead;
        tokens = [...tokens.slice(0, lead), ...plain.slice(0, Math.max(0, limit - lead - trail)), ...tokens.slice(tokens.length - trail)];
      }
      inputs.push(tokens);
    }
    const promptTokens = inputs.reduce((n, t) => n + t.length, 0);
    if (inputs.length === 0) return { embeddings: [], promptTokens: 0 };
    const res = await server.http.json<{ index: number; embedding: number[][] | number[] }[]>("POST", "/embedding", {
      content: inputs,
      // Raw vectors: the server side normalises as each API asks.
      embd_normalize: -1,
    });
    const embeddings: number[][] = new Array(inputs.length);
    for (const r of res) {
      const e = r.embedding;
      embeddings[r.index] = Array.isArray(e[0]) ? (e.at(-1) as number[]) : (e as number[]);
    }
    return { embeddings, promptTokens };
  }

  async rerank(p: RerankParams): Promise<RerankResult> {
    if (!this.ranks) throw new EngineError(400, "this model does not support reranking");
    return this.orDie(rerank(this.main.http, p));
  }

  private embedServer(): Promise<LlamaServerProcess> {
    this.embedder ??= LlamaServerProcess.start(this.ls.binary, serverArgs(this.params, this.ls, "embed"), {
      debug: this.ls.debug,
      onDied: this.onDied,
    });
    this.embedder.catch(() => (this.embedder = undefined));
    return this.embedder;
  }

  async dispose(): Promise<void> {
    this.disposed = true;
    const embedder = await this.embedder?.catch(() => undefined);
    if (embedder && embedder !== this.main) await embedder.stop();
    await this.main.stop();
  }

  /** Synchronous kill of every llama-server, for a runner that is exiting. */
  killNow(): void {
    this.disposed = true;
    this.main.killNow();
    void this.embedder?.then((e) => e.killNow(), () => {});
  }
}

function elapsed(start: bigint): number {
  return Number(process.hrtime.bigint() - start);
}
