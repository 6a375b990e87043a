// Model management: tags, show, copy, delete, ps, blobs.
import { badRequest, notFound } from "../../api/errors.js";
import { checkOption, isKnownOption } from "../../api/options.js";
import {
  requestedModel,
  type CopyRequest,
  type DeleteRequest,
  type ListModel,
  type RunningModel,
  type ShowRequest,
  type ShowResponse,
} from "../../api/models.js";
import { readGguf } from "../../gguf/reader.js";
import { modelInfo, tensorsInfo } from "../../gguf/info.js";
import { DEFAULT_TEMPLATE } from "../../prompt/build.js";
import { readModel, type StoredModel } from "../../store/model.js";
import { displayShortest, parseModelName } from "../../store/name.js";
import { capabilities } from "../capabilities.js";
import { goSharpValue } from "../gofmt.js";
import { modelFacts, type ModelFacts } from "../model-facts.js";
import { localTimestamp } from "../time.js";
import type { ServerContext } from "./context.js";
import { detailsOf } from "./details.js";
import { renderModelfile } from "./modelfile.js";

async function factsOf(model: StoredModel): Promise<ModelFacts | undefined> {
  return model.modelPath ? modelFacts(model.modelPath).catch(() => undefined) : undefined;
}

export async function listModels(ctx: ServerContext): Promise<{ models: ListModel[] }> {
  const stored = await ctx.store.list();
  stored.sort((a, b) => b.modifiedAt.getTime() - a.modifiedAt.getTime());
  const models: ListModel[] = [];
  for (const s of stored) {
    const model = await readModel(ctx.store, s.name).catch(() => undefined);
    if (!model) continue;
    const facts = await factsOf(model);
    const name = displayShortest(s.name);
    const caps = capabilities(model, facts);
    // Newer Ollama lists capabilities too (after details, omitted when empty).
    const entry: ListModel = {
      name,
      model: name,
      modified_at: localTimestamp(s.modifiedAt),
      size: s.size,
      digest: s.digest,
      details: detailsOf(model, facts),
      capabilities: caps.length ? caps : undefined,
    };
    models.push(entry);
  }
  return { models };
}

/** The stored parameters in /api/show's text form: key padded to 30 columns, value as Go's %#v. */
function parametersText(params: Record<string, unknown>): string {
  const lines: string[] = [];
  for (const [key, value] of Object.entries(params)) {
    for (const v of Array.isArray(value) ? value : [value]) lines.push(`${key.padEnd(30)} ${goSharpValue(v)}`);
  }
  return lines.join("\n");
}

export async function showModel(ctx: ServerContext, req: ShowRequest): Promise<ShowResponse> {
  const sent = requestedModel(req);
  if (!sent) throw badRequest("model is required");
  const name = parseModelName(sent);
  if (!name) throw badRequest("invalid model name");
  const model = await readModel(ctx.store, name);
  if (!model) throw notFound(`model '${displayShortest(name)}' not found`);
  const facts = await factsOf(model);
  const gguf = model.modelPath ? await readGguf(model.modelPath) : undefined;
  const projector = model.projectorPaths[0] ? await readGguf(model.projectorPaths[0]) : undefined;
  const params = req.options ? { ...model.params, ...pickKnown(req.options) } : model.params;
  const system = req.system || model.system;
  const caps = capabilities(model, facts);
  return {
    license: model.licenses.length ? model.licenses.join("\n") : undefined,
    modelfile: renderModelfile(model, { template: model.template ?? DEFAULT_TEMPLATE, system, params }),
    parameters: Object.keys(model.params).length ? parametersText(model.params) : undefined,
    template: model.template ?? facts?.chatTemplate ?? DEFAULT_TEMPLATE,
    system: system || undefined,
    details: detailsOf(model, facts),
    messages: model.messages.length ? model.messages.map((m) => ({ role: m.role, content: m.content })) : undefined,
    model_info: gguf ? modelInfo(gguf, Boolean(req.verbose)) : {},
    projector_info: projector ? modelInfo(projector, Boolean(req.verbose)) : undefined,
    tensors: gguf ? tensorsInfo(gguf) : undefined,
    capabilities: caps.length ? caps : undefined,
    modified_at: localTimestamp(model.stored.modifiedAt),
  };
}

/** Request options shown in the Modelfile: only known option names, type-checked. */
function pickKnown(options: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(options)) {
    if (value !== null && value !== undefined && isKnownOption(key)) out[key] = checkOption(key, value);
  }
  return out;
}

export async function copyModel(ctx: ServerContext, req: CopyRequest) {
  const src = parseModelName(req.source ?? "");
  if (!src) throw badRequest(`source "${req.source ?? ""}" is invalid`);
  const dst = parseModelName(req.destination ?? "");
  if (!dst) throw badRequest(`destination "${req.destination ?? ""}" is invalid`);
  const resolved = await ctx.store.resolveName(src);
  if (!resolved) throw notFound(`model "${req.source}" not found`);
  await ctx.store.copyModel(resolved, (await ctx.store.resolveName(dst)) ?? dst);
}

export async function deleteModel(ctx: ServerContext, req: DeleteRequest) {
  const sent = requestedModel(req);
  if (!sent) throw badRequest("model is required");
  const name = parseModelName(sent);
  if (!name) throw badRequest(`name "${sent}" is invalid`);
  if (!(await ctx.store.deleteModel(name))) throw notFound(`model '${sent}' not found`);
}

export function runningModels(ctx: ServerContext): { models: RunningModel[] } {
  return {
    models: ctx.scheduler.running().map((r) => ({
      name: r.description.name,
      model: r.description.name,
      size: r.size,
      digest: r.description.digest,
      details: r.description.details,
      expires_at: localTimestamp(r.expiresAt),
      size_vram: r.sizeVram,
      context_length: r.contextLength,
    })),
  };
}

export async function blobExists(ctx: ServerContext, digest: string): Promise<boolean> {
  return ctx.store.hasBlob(digest);
}

export async function uploadBlob(ctx: ServerContext, digest: string, body: AsyncIterable<Uint8Array>): Promise<number> {
  ctx.store.blobPath(digest); // validates the digest before reading the body
  return (await ctx.store.writeBlobStream(digest, body)) === "created" ? 201 : 200;
}
