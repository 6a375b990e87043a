// The steps every generation shares before a prompt exists: the model's facts and options, the think
// setting, and a runner slot from the scheduler (released if a later step fails).
import { badRequest } from "../../api/errors.js";
import type { KeepAlive } from "../../api/duration.js";
import type { Options } from "../../api/options.js";
import type { InferenceFields, Think } from "../../api/inference.js";
import type { LoadParams } from "../../runner/protocol.js";
import type { Lease } from "../../scheduler/scheduler.js";
import type { StoredModel } from "../../store/model.js";
import { capabilities, type Capability } from "../capabilities.js";
import { modelFacts, type ModelFacts } from "../model-facts.js";
import { detailsOf } from "./details.js";
import { loadParams, memoryEstimate, mergedOptions } from "./runner-settings.js";
import type { ServerContext } from "./context.js";

export interface Prepared {
  model: StoredModel;
  facts: ModelFacts;
  caps: Capability[];
  options: Options;
  load: LoadParams;
}

export async function prepare(ctx: ServerContext, model: StoredModel, req: InferenceFields): Promise<Prepared> {
  if (!model.modelPath) throw badRequest(`"${req.model}" does not support generate`);
  const facts = await modelFacts(model.modelPath);
  const caps = capabilities(model, facts);
  const options = mergedOptions(model, req.options);
  const load = loadParams(ctx, { ...model, modelPath: model.modelPath }, facts, options);
  return { model, facts, caps, options, load };
}

/** The think value to use: absent means on for thinking models; asking a non-thinking model to think is a 400. */
export function resolveThink(p: Prepared, req: InferenceFields): Think | undefined {
  if (p.caps.includes("thinking")) return req.think ?? true;
  if (req.think !== undefined && req.think !== false) throw badRequest(`"${req.model}" does not support thinking`);
  return req.think;
}

/** A runner slot for the model, started with `p.load` if none is loaded. */
export function acquire(
  ctx: ServerContext,
  p: Pick<Prepared, "model" | "facts" | "load">,
  req: { keep_alive?: KeepAlive },
  signal: AbortSignal,
): Promise<Lease> {
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

/** A runner slot for a resolved model, with the request's options and keep_alive (embed, rerank). */
export function leaseModel(
  ctx: ServerContext,
  model: StoredModel & { modelPath: string },
  facts: ModelFacts,
  req: { options?: Record<string, unknown>; keep_alive?: KeepAlive },
  signal: AbortSignal,
): Promise<Lease> {
  const load = loadParams(ctx, model, facts, mergedOptions(model, req.options));
  return acquire(ctx, { model, facts, load }, req, signal);
}

export function isZeroKeepAlive(v: number | undefined) {
  return v === 0;
}

/** Runs `fn` with the lease, releasing it if `fn` fails before a stream takes it over. */
export async function withLease<T>(lease: Lease, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    lease.release();
    throw e;
  }
}

/** Like withLease for synchronous work. */
export function withLeaseSync<T>(lease: Lease, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    lease.release();
    throw e;
  }
}
