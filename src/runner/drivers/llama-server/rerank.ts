// Reranking on a llama-server started with --reranking: it lays out each query/document pair with the
// model's own separators (or its "rerank" template) and scores it with the model's classifier head.
import type { RerankParams, RerankResult } from "../../protocol.js";
import { EngineError, INPUT_TOO_LONG } from "../engine.js";
import type { LlamaServerHttp } from "./http.js";

interface RerankAnswer {
  results: { index: number; relevance_score: number }[];
  usage?: { prompt_tokens?: number };
}

export async function rerank(http: LlamaServerHttp, p: RerankParams): Promise<RerankResult> {
  if (p.documents.length === 0) return { scores: [], promptTokens: 0 };
  let answer: RerankAnswer;
  try {
    answer = await http.json<RerankAnswer>("POST", "/rerank", { query: p.query, documents: p.documents, top_n: p.documents.length });
  } catch (e) {
    // A pair longer than one batch (the context) cannot be scored.
    if (e instanceof EngineError && /too large to process|larger than the max context/.test(e.message)) throw new EngineError(400, INPUT_TOO_LONG);
    throw e;
  }
  const scores = new Array<number>(p.documents.length).fill(0);
  for (const r of answer.results) scores[r.index] = r.relevance_score;
  return { scores, promptTokens: answer.usage?.prompt_tokens ?? 0 };
}
