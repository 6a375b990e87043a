// /api/generate and /api/chat: resolve the model, check what it can do, build the prompt, take a
// runner slot from the scheduler and stream the runner's tokens back as Ollama chunks.
import { randomInt } from "node:crypto";
import { ApiError, badRequest, notFound } from "../../api/errors.js";
import { applyOptions, defaultOptions, type Options } from "../../api/options.js";
import type {
  ChatRequest,
  ChatResponse,
  DebugInfo,
  Format,
  GenerateRequest,
  GenerateResponse,
  InferenceFields,
  Message,
} from "../../api/inference.js";
import { DEFAULT_CONTEXT_LENGTH } from "../../config.js";
import {
  chatMessages,
  generateMessages,
  promptFormat,
  renderMessages,
  type PromptModel,
} from "../../prompt/build.js";
import { TemplateError } from "../../prompt/template.js";
import type { GenerateParams, GenerateStats, GrammarSpec, LoadParams } from "../../runner/protocol.js";
import type { Lease } from "../../scheduler/scheduler.js";
import type { StoredModel } from "../../store/model.js";
import { AsyncQueue } from "../async-queue.js";
import { capabilities, type Capability } from "../capabilities.js";
import { modelFacts, type ModelFacts } from "../model-facts.js";
import { utcTimestamp } from "../time.js";
import { detailsOf } from "./details.js";
import { resolveModel } from "./resolve.js";
import type { Reply, ServerContext } from "./context.js";

interface Prepared {
  model: StoredModel;
  facts: ModelFacts;
  caps: Capability[];
  options: Options;
  load: LoadParams;
}

async function prepare(ctx: ServerContext, model: StoredModel, req: InferenceFields): Promise<Prepared> {
  if (!model.modelPath) throw badRequest(`"${req.model}" does not support generate`);
  const facts = await modelFacts(model.modelPath);
  const caps = capabilities(model, facts);
  const options = applyOptions(applyOptions(defaultOptions(), model.params), req.options);
  let numCtx = options.num_ctx > 0 ? options.num_ctx : ctx.config.contextLength || DEFAULT_CONTEXT_LENGTH;
  if (facts.contextLength) numCtx = Math.min(numCtx, facts.contextLength);
  numCtx = Math.max(4, numCtx);
  const load: LoadParams = {
    modelPath: model.modelPath,
    adapters: model.adapterPaths.map((path) => ({ path, scale: 1 })),
    contextSize: numCtx,
    batchSize: Math.max(1, Math.min(options.num_batch > 0 ? options.num_batch : 512, numCtx)),
    parallel: ctx.config.numParallel,
    threads: options.num_thread > 0 ? options.num_thread : ctx.threads,
    useMmap: options.use_mmap,
  };
  return { model, facts, caps, options, load };
}

function checkThink(p: Prepared, req: InferenceFields) {
  if (req.think !== undefined && req.think !== false && !p.caps.includes("thinking")) {
    throw badRequest(`"${req.model}" does not support thinking`);
  }
}

function acquire(ctx: ServerContext, p: Prepared, req: InferenceFields, signal: AbortSignal): Promise<Lease> {
  return ctx.scheduler.acquire({
    params: p.load,
    description: {
      name: p.model.shortName,
      digest: p.model.stored.digest,
      details: detailsOf(p.model, p.facts, { parentModel: "" }),
    },
    keepAlive: req.keep_alive,
    signal,
  });
}

function grammarOf(format: Format | undefined): GrammarSpec | undefined {
  if (format === undefined) return undefined;
  return format === "json" ? { kind: "json" } : { kind: "schema", schema: format };
}

function generateParams(p: Prepared, prompt: string, format: Format | undefined, req: InferenceFields, returnContext: boolean): GenerateParams {
  const o = p.options;
  const numCtx = p.load.contextSize;
  return {
    prompt,
    // num_predict <= 0 means "until a stop"; bounded, as Ollama bounds -1, to 10 x num_ctx.
    maxTokens: o.num_predict <= 0 ? 10 * numCtx : o.num_predict,
    stop: o.stop,
    sampling: {
      temperature: o.temperature,
      topK: o.top_k,
      topP: o.top_p,
      minP: o.min_p,
      // An unset seed must differ between requests (the engine's default is per-second).
      seed: o.seed < 0 ? randomInt(0, 2 ** 32 - 1) : o.seed % 2 ** 32,
      repeatPenalty: o.repeat_penalty,
      repeatLastN: o.repeat_last_n,
      presencePenalty: o.presence_penalty,
      frequencyPenalty: o.frequency_penalty,
    },
    grammar: grammarOf(format),
    numKeep: o.num_keep,
    shift: req.shift ?? true,
    returnContext,
  };
}

function durations(t0: bigint, lease: Lease, stats: GenerateStats) {
  // Go's omitempty drops zero counts and durations.
  const nz = (n: number) => (n > 0 ? Math.round(n) : undefined);
  return {
    total_duration: nz(Number(process.hrtime.bigint() - t0)),
    load_duration: nz(lease.loadNs),
    prompt_eval_count: nz(stats.promptTokens),
    prompt_eval_duration: nz(stats.promptEvalNs),
    eval_count: nz(stats.evalTokens),
    eval_duration: nz(stats.evalNs),
  };
}

async function* stream<T extends object>(
  lease: Lease,
  params: GenerateParams,
  signal: AbortSignal,
  chunk: (text: string) => T,
  final: (stats: GenerateStats) => T,
): AsyncGenerator<T> {
  try {
    const texts = new AsyncQueue<string>();
    const done = lease.runner.generate(params, { signal, onToken: (t) => texts.push(t) });
    done.then(() => texts.end(), (e) => texts.fail(e));
    for await (const text of texts) if (text) yield chunk(text);
    yield final(await done);
  } finally {
    lease.release();
  }
}

function promptModel(model: StoredModel, facts: ModelFacts): PromptModel {
  return { template: model.template, chatTemplate: facts.chatTemplate, system: model.system, messages: model.messages };
}

function render(p: Prepared, messages: Message[], template: string | undefined, lease: Lease): string {
  try {
    const info = lease.runner.info;
    return renderMessages(promptFormat(promptModel(p.model, p.facts), template), messages, {
      bosText: info.bosText,
      eosText: info.eosText,
    });
  } catch (e) {
    if (e instanceof TemplateError) throw new ApiError(500, e.message);
    throw e;
  }
}

/** `_debug_render_only`: the prompt the engine would get, without generating. */
function debugInfo(rendered: string, images: string[] | undefined): DebugInfo {
  return { rendered_template: rendered, image_count: images?.length ?? 0 };
}

function isZeroKeepAlive(v: number | undefined) {
  return v === 0;
}

/** Runs `fn` with the lease, releasing it if `fn` fails before a stream takes it over. */
async function withLease<T>(lease: Lease, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    lease.release();
    throw e;
  }
}

export async function generate(ctx: ServerContext, req: GenerateRequest, signal: AbortSignal): Promise<Reply> {
  const t0 = process.hrtime.bigint();
  const sent = req.model ?? "";
  const model = await resolveModel(ctx.store, sent, {
    empty: notFound("model '' not found"),
    missing: (s) => notFound(`model '${s}' not found`),
  });
  const base = () => ({ model: sent, created_at: utcTimestamp() });
  const prompt = req.prompt ?? "";
  const single = (body: GenerateResponse): Reply => ({ kind: "single", body });
  if (prompt === "" && isZeroKeepAlive(req.keep_alive)) {
    if (model.modelPath) await ctx.scheduler.unload(model.modelPath);
    return single({ ...base(), response: "", done: true, done_reason: "unload" });
  }
  if (req.raw && (req.template || req.system || req.context?.length)) {
    throw badRequest("raw mode does not support template, system, or context");
  }
  const p = await prepare(ctx, model, req);
  checkThink(p, req);
  const missing: Capability[] = [];
  if (!p.caps.includes("completion")) throw badRequest(`"${sent}" does not support generate`);
  if (req.suffix && !p.caps.includes("insert")) missing.push("insert");
  if (missing.length) throw badRequest(`${model.fullName} does not support ${missing.join("\n")}`);

  const lease = await acquire(ctx, p, req, signal);
  if (prompt === "") {
    lease.release();
    return single({ ...base(), response: "", done: true, done_reason: "load" });
  }
  const text = await withLease(lease, async () => {
    if (req.raw) return prompt;
    const messages = generateMessages(promptModel(model, p.facts), {
      prompt,
      system: req.system,
      images: req.images,
      hasContext: Boolean(req.context?.length),
    });
    const rendered = render(p, messages, req.template, lease);
    const prior = req.context?.length ? await lease.runner.detokenize(req.context) : "";
    return prior + rendered;
  });
  if (req._debug_render_only) {
    lease.release();
    return single({ ...base(), response: "", done: false, _debug_info: debugInfo(text, req.images) });
  }
  const params = generateParams(p, text, req.format, req, !req.raw);
  const chunks = stream<GenerateResponse>(
    lease,
    params,
    signal,
    (response) => ({ ...base(), response, done: false }),
    (stats) => ({
      ...base(),
      response: "",
      done: true,
      done_reason: stats.doneReason,
      context: req.raw ? undefined : stats.context,
      ...durations(t0, lease, stats),
    }),
  );
  return {
    kind: "stream",
    chunks,
    collect: (all) => {
      const list = all as GenerateResponse[];
      return { ...list[list.length - 1]!, response: list.map((c) => c.response).join("") };
    },
  };
}

export async function chat(ctx: ServerContext, req: ChatRequest, signal: AbortSignal): Promise<Reply> {
  const t0 = process.hrtime.bigint();
  const sent = req.model ?? "";
  const model = await resolveModel(ctx.store, sent, {
    empty: badRequest("model is required"),
    missing: (s) => notFound(`model '${s}' not found`),
  });
  const base = () => ({ model: sent, created_at: utcTimestamp() });
  const emptyMessage: Message = { role: "assistant", content: "" };
  const single = (body: ChatResponse): Reply => ({ kind: "single", body });
  const messages = (req.messages ?? []).map((m) => ({ ...m, role: (m.role ?? "").toLowerCase(), content: m.content ?? "" }));
  if (messages.length === 0 && isZeroKeepAlive(req.keep_alive)) {
    if (model.modelPath) await ctx.scheduler.unload(model.modelPath);
    return single({ ...base(), message: emptyMessage, done: true, done_reason: "unload" });
  }
  const p = await prepare(ctx, model, req);
  checkThink(p, req);
  if (!p.caps.includes("completion")) throw badRequest(`"${sent}" does not support chat`);
  if (req.tools?.length && !p.caps.includes("tools")) throw badRequest(`${model.fullName} does not support tools`);

  const lease = await acquire(ctx, p, req, signal);
  if (messages.length === 0) {
    lease.release();
    return single({ ...base(), message: emptyMessage, done: true, done_reason: "load" });
  }
  const text = await withLease(lease, async () =>
    render(p, chatMessages(promptModel(model, p.facts), messages), undefined, lease),
  );
  if (req._debug_render_only) {
    lease.release();
    const images = messages.flatMap((m) => m.images ?? []);
    return single({ ...base(), message: emptyMessage, done: false, _debug_info: debugInfo(text, images) });
  }
  const params = generateParams(p, text, req.format, req, false);
  const chunks = stream<ChatResponse>(
    lease,
    params,
    signal,
    (content) => ({ ...base(), message: { role: "assistant", content }, done: false }),
    (stats) => ({
      ...base(),
      message: emptyMessage,
      done: true,
      done_reason: stats.doneReason,
      ...durations(t0, lease, stats),
    }),
  );
  return {
    kind: "stream",
    chunks,
    collect: (all) => {
      const list = all as ChatResponse[];
      const content = list.map((c) => c.message.content).join("");
      return { ...list[list.length - 1]!, message: { role: "assistant", content } };
    },
  };
}
