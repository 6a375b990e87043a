// /api/embed and the legacy /api/embeddings: load the model, embed in the runner, normalise.
import { badRequest, notFound } from "../../api/errors.js";
import type { EmbedRequest, EmbedResponse, EmbeddingsRequest, EmbeddingsResponse } from "../../api/embed.js";
import type { KeepAlive } from "../../api/duration.js";
import type { Lease } from "../../scheduler/scheduler.js";
import type { StoredModel } from "../../store/model.js";
import { modelFacts } from "../model-facts.js";
import type { ServerContext } from "./context.js";
import { leaseModel } from "./inference-prep.js";
import { resolveModel, type NotFoundWording } from "./resolve.js";

async function lease(
  ctx: ServerContext,
  sent: string,
  wording: NotFoundWording,
  req: { options?: Record<string, unknown>; keep_alive?: KeepAlive },
  signal: AbortSignal,
): Promise<{ model: StoredModel; lease: Lease }> {
  const model = await resolveModel(ctx.store, sent, wording);
  if (!model.modelPath) throw badRequest(`"${sent}" does not support embeddings`);
  const facts = await modelFacts(model.modelPath);
  // A reranker pools to one score, not a vector: llama-server would hand back memory past it.
  if (facts.ranks) throw badRequest(`"${sent}" does not support embeddings`);
  const l = await leaseModel(ctx, { ...model, modelPath: model.modelPath }, facts, req, signal);
  return { model, lease: l };
}

function normalise(v: number[]): number[] {
  const norm = Math.sqrt(v.reduce((s, x) => s + x * x, 0));
  return norm > 0 ? v.map((x) => x / norm) : v;
}

/** Go prints float32 values; rounding through Math.fround keeps the same numbers a client gets from Ollama. */
const float32 = (v: number[]) => v.map((x) => Math.fround(x));

export async function embed(ctx: ServerContext, req: EmbedRequest, signal: AbortSignal): Promise<EmbedResponse> {
  const t0 = process.hrtime.bigint();
  const sent = req.model ?? "";
  const { lease: l } = await lease(ctx, sent, { empty: notFound("model '' not found"), missing: (s) => notFound(`model '${s}' not found`) }, req, signal);
  try {
    const inputs = req.input ?? [];
    if (inputs.length === 0) return { model: sent, embeddings: [] };
    const result = await l.runner.embed({ inputs, truncate: req.truncate ?? true });
    const dims = req.dimensions ?? 0;
    const embeddings = result.embeddings.map((raw) => {
      if (raw.some((x) => !Number.isFinite(x))) throw badRequest("embedding contains NaN or Inf values");
      const v = normalise(raw);
      return float32(dims > 0 && dims < v.length ? normalise(v.slice(0, dims)) : v);
    });
    return {
      model: sent,
      embeddings,
      total_duration: Number(process.hrtime.bigint() - t0),
      load_duration: l.loadNs,
      prompt_eval_count: result.promptTokens,
    };
  } finally {
    l.release();
  }
}

export async function embeddings(ctx: ServerContext, req: EmbeddingsRequest, signal: AbortSignal): Promise<EmbeddingsResponse> {
  const sent = req.model ?? "";
  const { lease: l } = await lease(
    ctx,
    sent,
    { empty: badRequest("model is required"), missing: (s) => notFound(`model "${s}" not found, try pulling it first`) },
    req,
    signal,
  );
  try {
    if (!req.prompt) return { embedding: [] };
    const result = await l.runner.embed({ inputs: [req.prompt], truncate: true });
    return { embedding: result.embeddings[0]! };
  } finally {
    l.release();
  }
}
