// /api/generate and /api/chat: resolve the model, check what it can do, build the prompt, take a
// runner slot from the scheduler and stream the runner's tokens back as Ollama chunks.
import { randomInt } from "node:crypto";
import { ApiError, badRequest, notFound } from "../../api/errors.js";
import type { Options } from "../../api/options.js";
import type {
  ChatRequest,
  ChatResponse,
  DebugInfo,
  Format,
  GenerateRequest,
  GenerateResponse,
  InferenceFields,
  Message,
  Think,
} from "../../api/inference.js";
import { promptFormat, renderMessages, renderSuffix, type PromptFormat } from "../../prompt/build.js";
import { jinjaThinkingTags, jinjaToolCallTag } from "../../prompt/jinja.js";
import { chatMessages, generateMessages, stripOldThinking, type PromptModel } from "../../prompt/messages.js";
import { isEmpty, OutputParser, type OutputDelta, type OutputOptions } from "../../prompt/output.js";
import { TemplateError, thinkingTags, toolCallTag } from "../../prompt/template.js";
import { toolNames } from "../../prompt/tools.js";
import { fitMessages } from "../../prompt/truncate.js";
import type { GenerateParams, GenerateStats, GrammarSpec, LoadParams } from "../../runner/protocol.js";
import type { Lease } from "../../scheduler/scheduler.js";
import type { StoredModel } from "../../store/model.js";
import { AsyncQueue } from "../async-queue.js";
import { capabilities, type Capability } from "../capabilities.js";
import { modelFacts, type ModelFacts } from "../model-facts.js";
import { utcTimestamp } from "../time.js";
import { detailsOf } from "./details.js";
import { resolveModel } from "./resolve.js";
import { loadParams, memoryEstimate, mergedOptions } from "./runner-settings.js";
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
  const options = mergedOptions(model, req.options);
  const load = loadParams(ctx, { ...model, modelPath: model.modelPath }, facts, options);
  return { model, facts, caps, options, load };
}

/** The think value to use: absent means on for thinking models; asking a non-thinking model to think is a 400. */
function resolveThink(p: Prepared, req: InferenceFields): Think | undefined {
  if (p.caps.includes("thinking")) return req.think ?? true;
  if (req.think !== undefined && req.think !== false) throw badRequest(`"${req.model}" does not support thinking`);
  return req.think;
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
    memory: memoryEstimate(p.load, p.facts),
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
      typicalP: o.typical_p,
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
    stream: req.stream !== false,
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
  chunk: (text: string) => T | undefined,
  final: (stats: GenerateStats) => T,
): AsyncGenerator<T> {
  try {
    const texts = new AsyncQueue<string>();
    const done = lease.runner.generate(params, { signal, onToken: (t) => texts.push(t) });
    done.then(() => texts.end(), (e) => texts.fail(e));
    for await (const text of texts) {
      const c = text ? chunk(text) : undefined;
      if (c) yield c;
    }
    yield final(await done);
  } finally {
    lease.release();
  }
}

function promptModel(model: StoredModel, facts: ModelFacts): PromptModel {
  return { template: model.template, chatTemplate: facts.chatTemplate, system: model.system, messages: model.messages };
}

/** Template errors while rendering are the server's (500), with Go's message. */
function templateErrors<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof TemplateError) throw new ApiError(500, e.message);
    throw e;
  }
}

function formatFor(p: Prepared, override?: string): PromptFormat {
  return templateErrors(() => promptFormat(promptModel(p.model, p.facts), override));
}

interface RenderPlan {
  format: PromptFormat;
  tools?: unknown[];
  think?: Think;
  truncate: boolean;
}

/** Renders the conversation, dropping its oldest messages while the prompt exceeds num_ctx (tokens counted by the runner). */
async function renderFitted(p: Prepared, lease: Lease, messages: Message[], plan: RenderPlan) {
  const info = lease.runner.info;
  const render = (msgs: Message[]) =>
    templateErrors(() =>
      renderMessages(plan.format, msgs, { tools: plan.tools, think: plan.think, bosText: info.bosText, eosText: info.eosText }),
    );
  const count = async (text: string) => (await lease.runner.tokenize(text)).length + (info.addBos ? 1 : 0);
  return fitMessages(messages, render, count, {
    numCtx: Math.min(p.load.contextSize, info.contextSize),
    truncate: plan.truncate,
    imageTokens: p.model.projectorPaths.length > 0 ? 768 : 0,
    imageMarkers: plan.format.kind === "go",
  });
}

/** How the model's output is split: thinking tags (from the model's own template) and the tool-call tag. */
function outputOptions(p: Prepared, think: Think | undefined, prompt: string, tools: unknown[] | undefined): OutputOptions {
  const own = formatFor(p);
  const opts: OutputOptions = {};
  if (think !== undefined && think !== false) {
    const tags = own.kind === "go" ? thinkingTags(own.template) : jinjaThinkingTags(own.source);
    if (tags?.open && tags.close) opts.thinking = { ...tags, prefilled: prompt.trim().endsWith(tags.open) };
  }
  if (tools?.length) {
    opts.tools = { tag: own.kind === "go" ? toolCallTag(own.template) : jinjaToolCallTag(own.source), names: toolNames(tools) };
  }
  return opts;
}

/** `_debug_render_only`: the prompt the engine would get, without generating. */
function debugInfo(rendered: string, images: number): DebugInfo {
  return { rendered_template: rendered, image_count: images };
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

interface GenerateInput {
  text: string;
  images: number;
  /** Fill-in-the-middle by the engine: `text` is the prefix. */
  suffix?: string;
  /** What _debug_render_only shows. */
  debug: string;
}

/** The prompt for /api/generate: raw, suffix mode (template or engine FIM), a template override, or the chat path. */
async function generateInput(p: Prepared, lease: Lease, req: GenerateRequest, think: Think | undefined): Promise<GenerateInput> {
  const prompt = req.prompt ?? "";
  const images = req.images?.length ?? 0;
  if (req.raw) return { text: prompt, images, debug: prompt };
  const prior = req.context?.length ? await lease.runner.detokenize(req.context) : "";
  if (req.suffix) {
    const format = formatFor(p, req.template);
    if (format.kind === "go" && (format.template.vars.has("suffix") || !p.facts.fim)) {
      const text = prior + templateErrors(() => renderSuffix(format.template, prompt, req.suffix!, think));
      return { text, images, debug: text };
    }
    const fim = p.facts.fim!;
    return { text: prompt, suffix: req.suffix, images, debug: `${fim.prefix}${prompt}${fim.suffix}${req.suffix}${fim.middle}` };
  }
  const messages = generateMessages(promptModel(p.model, p.facts), {
    prompt,
    system: req.system,
    images: req.images,
    hasContext: Boolean(req.context?.length),
  });
  if (req.template) {
    // A request template runs directly over the messages: no truncation, and .Tools is nil.
    const format = formatFor(p, req.template);
    const text = prior + templateErrors(() => renderMessages(format, messages, { think }));
    return { text, images, debug: text };
  }
  const fitted = await renderFitted(p, lease, messages, { format: formatFor(p), tools: [], think, truncate: req.truncate ?? true });
  return { text: prior + fitted.prompt, images: fitted.images, debug: prior + fitted.prompt };
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
  const think = resolveThink(p, req);
  const missing: Capability[] = [];
  if (!p.caps.includes("completion")) throw badRequest(`"${sent}" does not support generate`);
  if (req.suffix && !p.caps.includes("insert")) missing.push("insert");
  if (missing.length) throw badRequest(`${model.fullName} does not support ${missing.join("\n")}`);

  const lease = await acquire(ctx, p, req, signal);
  if (prompt === "") {
    lease.release();
    return single({ ...base(), response: "", done: true, done_reason: "load" });
  }
  const input = await withLease(lease, () => generateInput(p, lease, req, think));
  if (req._debug_render_only) {
    lease.release();
    return single({ ...base(), response: "", done: false, _debug_info: debugInfo(input.debug, input.images) });
  }
  const params = { ...generateParams(p, input.text, req.format, req, !req.raw), suffix: input.suffix };
  const parser = new OutputParser(req.raw ? {} : withLeaseSync(lease, () => outputOptions(p, think, input.text, undefined)));
  // GenerateResponse field order: model, created_at, response, thinking?, done, ...
  const chunk = (d: OutputDelta, done: boolean) =>
    ({ ...base(), response: d.content, thinking: d.thinking || undefined, done }) satisfies GenerateResponse;
  const chunks = stream<GenerateResponse>(
    lease,
    params,
    signal,
    (text) => {
      const d = parser.push(text);
      return isEmpty(d) ? undefined : chunk(d, false);
    },
    (stats) => ({
      ...chunk(parser.finish(), true),
      done_reason: stats.doneReason,
      context: req.raw ? undefined : stats.context,
      ...durations(t0, lease, stats),
    }),
  );
  return {
    kind: "stream",
    generation: { model: model.shortName, streamed: params.stream !== false },
    chunks,
    collect: (all) => {
      const list = all as (GenerateResponse & { thinking?: string })[];
      const last = list[list.length - 1]!;
      const thinking = list.map((c) => c.thinking ?? "").join("");
      const { model: m, created_at, response: _r, thinking: _t, done, ...rest } = last;
      return { model: m, created_at, response: list.map((c) => c.response).join(""), thinking: thinking || undefined, done, ...rest };
    },
  };
}

/** Like withLease for synchronous work. */
function withLeaseSync<T>(lease: Lease, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    lease.release();
    throw e;
  }
}

/** The assistant message of a chat chunk, fields in Go's order. */
function assistantMessage(d: OutputDelta): Message {
  return {
    role: "assistant",
    content: d.content,
    thinking: d.thinking || undefined,
    tool_calls: d.calls.length ? d.calls : undefined,
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
  const think = resolveThink(p, req);
  if (!p.caps.includes("completion")) throw badRequest(`"${sent}" does not support chat`);
  const tools = req.tools?.length ? req.tools : undefined;
  if (tools && !p.caps.includes("tools")) throw badRequest(`${model.fullName} does not support tools`);

  const lease = await acquire(ctx, p, req, signal);
  if (messages.length === 0) {
    lease.release();
    return single({ ...base(), message: emptyMessage, done: true, done_reason: "load" });
  }
  let all = chatMessages(promptModel(model, p.facts), messages);
  if (model.config.model_family === "qwen3" || model.name.model === "deepseek-r1") all = stripOldThinking(all);
  const fitted = await withLease(lease, () =>
    renderFitted(p, lease, all, { format: formatFor(p), tools, think, truncate: req.truncate ?? true }),
  );
  if (req._debug_render_only) {
    lease.release();
    return single({ ...base(), message: emptyMessage, done: false, _debug_info: debugInfo(fitted.prompt, fitted.images) });
  }
  const params = generateParams(p, fitted.prompt, req.format, req, false);
  const parser = new OutputParser(withLeaseSync(lease, () => outputOptions(p, think, fitted.prompt, tools)));
  const chunks = stream<ChatResponse>(
    lease,
    params,
    signal,
    (text) => {
      const d = parser.push(text);
      return isEmpty(d) ? undefined : { ...base(), message: assistantMessage(d), done: false };
    },
    (stats) => ({
      ...base(),
      message: assistantMessage(parser.finish()),
      done: true,
      done_reason: stats.doneReason,
      ...durations(t0, lease, stats),
    }),
  );
  return {
    kind: "stream",
    generation: { model: model.shortName, streamed: params.stream !== false },
    chunks,
    collect: (list) => {
      const cs = list as ChatResponse[];
      const d: OutputDelta = {
        content: cs.map((c) => c.message.content).join(""),
        thinking: cs.map((c) => c.message.thinking ?? "").join(""),
        calls: cs.flatMap((c) => c.message.tool_calls ?? []),
      };
      return { ...cs[cs.length - 1]!, message: assistantMessage(d) };
    },
  };
}
