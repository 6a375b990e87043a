// /api/rerank and /v1/rerank: a reranking model (rank pooling) scores the query against each document
// in the runner; the results are sorted best first and cut to top_n.
import { badRequest, notFound } from "../../api/errors.js";
import type { RerankRequest, RerankResponse } from "../../api/rerank.js";
import { modelFacts } from "../model-facts.js";
import type { ServerContext } from "./context.js";
import { leaseModel } from "./inference-prep.js";
import { resolveModel } from "./resolve.js";

export async function rerank(ctx: ServerContext, req: RerankRequest, signal: AbortSignal): Promise<RerankResponse> {
  const sent = req.model ?? "";
  const model = await resolveModel(ctx.store, sent, { empty: badRequest("model is required"), missing: (s) => notFound(`model '${s}' not found`) });
  const facts = model.modelPath ? await modelFacts(model.modelPath) : undefined;
  // Checked before anything loads: only a model with a classifier head over a pair can rank.
  if (!model.modelPath || !facts?.ranks) throw badRequest(`"${sent}" does not support reranking`);
  if (req.query === undefined || req.query === "") throw badRequest("query is required");
  const lease = await leaseModel(ctx, { ...model, modelPath: model.modelPath }, facts, req, signal);
  const documents = req.documents ?? [];
  const scored = await lease.runner.rerank({ query: req.query, documents }).finally(() => lease.release());
  const order = scored.scores.map((score, index) => ({ index, score }));
  // Best first; equal scores keep the documents' order.
  order.sort((a, b) => b.score - a.score || a.index - b.index);
  const topN = req.top_n ? Math.min(req.top_n, order.length) : order.length;
  return {
    model: sent,
    results: order.slice(0, topN).map(({ index, score }) => ({
      index,
      relevance_score: score,
      document: req.return_documents ? { text: documents[index]! } : undefined,
    })),
    usage: { prompt_tokens: scored.promptTokens, total_tokens: scored.promptTokens },
  };
}
