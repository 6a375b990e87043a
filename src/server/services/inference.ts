// /api/generate and /api/chat: resolve the model, check what it can do, build the prompt, take a
// runner slot from the scheduler and stream the runner's tokens back as Ollama chunks.
import { badRequest, notFound } from "../../api/errors.js";
import type { ChatRequest, ChatResponse, GenerateRequest, GenerateResponse, Message } from "../../api/inference.js";
import { chatMessages, stripOldThinking } from "../../prompt/messages.js";
import { isEmpty, OutputParser, type OutputDelta } from "../../prompt/output.js";
import type { Capability } from "../capabilities.js";
import { utcTimestamp } from "../time.js";
import { acquire, isZeroKeepAlive, prepare, resolveThink, withLease, withLeaseSync } from "./inference-prep.js";
import { debugInfo, formatFor, generateInput, outputOptions, promptModel, renderFitted } from "./prompt-render.js";
import { messageImages, requestImages } from "./images.js";
import { resolveModel } from "./resolve.js";
import { durations, generateParams, stream } from "./token-stream.js";
import { formatAfterThinking, formatsAfterThinking } from "./format-after-thinking.js";
import type { GenerateStats, Logprob } from "../../runner/protocol.js";
import { apiLogprobs, joinLogprobs } from "./logprobs.js";
import type { Reply, ServerContext } from "./context.js";

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
  req = { ...req, images: await requestImages(p, req.images) };

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
  const params = { ...generateParams(p, input.text, req.format, req, !req.raw), suffix: input.suffix, images: input.imageData };
  const parser = new OutputParser(req.raw ? {} : withLeaseSync(lease, () => outputOptions(p, think, input.text, undefined)));
  // GenerateResponse field order: model, created_at, response, thinking?, done, ...
  const chunk = (d: OutputDelta, done: boolean) =>
    ({ ...base(), response: d.content, thinking: d.thinking || undefined, done }) satisfies GenerateResponse;
  const chunks = stream<GenerateResponse>(
    lease,
    params,
    signal,
    (text, lps) => {
      const d = parser.push(text);
      // Log probabilities go out even while the parser holds the text back.
      return isEmpty(d) && !lps?.length ? undefined : { ...chunk(d, false), logprobs: apiLogprobs(lps) };
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
      return { model: m, created_at, response: list.map((c) => c.response).join(""), thinking: thinking || undefined, done, ...rest, logprobs: joinLogprobs(list) };
    },
  };
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
  let messages = (req.messages ?? []).map((m) => ({ ...m, role: (m.role ?? "").toLowerCase(), content: m.content ?? "" }));
  if (messages.length === 0 && isZeroKeepAlive(req.keep_alive)) {
    if (model.modelPath) await ctx.scheduler.unload(model.modelPath);
    return single({ ...base(), message: emptyMessage, done: true, done_reason: "unload" });
  }
  const p = await prepare(ctx, model, req);
  const think = resolveThink(p, req);
  if (!p.caps.includes("completion")) throw badRequest(`"${sent}" does not support chat`);
  const tools = req.tools?.length ? req.tools : undefined;
  if (tools && !p.caps.includes("tools")) throw badRequest(`${model.fullName} does not support tools`);
  messages = await messageImages(p, messages);

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
  const params = { ...generateParams(p, fitted.prompt, req.format, req, false), images: fitted.imageData };
  const output = withLeaseSync(lease, () => outputOptions(p, think, fitted.prompt, tools));
  const parser = new OutputParser(output);
  const chunk = (d: OutputDelta, lps?: Logprob[]): ChatResponse | undefined =>
    isEmpty(d) && !lps?.length ? undefined : { ...base(), message: assistantMessage(d), done: false, logprobs: apiLogprobs(lps) };
  const final = (d: OutputDelta, stats: GenerateStats): ChatResponse => ({
    ...base(),
    message: assistantMessage(d),
    done: true,
    done_reason: stats.doneReason,
    ...durations(t0, lease, stats),
  });
  const rerender = async (thinking: string) =>
    (await renderFitted(p, lease, [...all, { role: "assistant", content: "", thinking }], { format: formatFor(p), tools, think, truncate: req.truncate ?? true })).prompt;
  const chunks = formatsAfterThinking(req.format, p.caps, output)
    ? formatAfterThinking({ lease, params, signal, output, rerender, chunk, final })
    : stream<ChatResponse>(lease, params, signal, (text, lps) => chunk(parser.push(text), lps), (stats) => final(parser.finish(), stats));
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
      // ChatResponse order: logprobs sit between done_reason and the metrics.
      const { model: m, created_at, message: _m, done, done_reason, logprobs: _l, ...metrics } = cs[cs.length - 1]!;
      return { model: m, created_at, message: assistantMessage(d), done, done_reason, logprobs: joinLogprobs(cs), ...metrics };
    },
  };
}
