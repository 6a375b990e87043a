// /v1/models and /v1/models/:model from the local store.
import { notFound } from "../../api/errors.js";
import { displayShortest, parseModelName } from "../../store/name.js";
import type { ServerContext } from "../services/context.js";

const unix = (d: Date) => Math.floor(d.getTime() / 1000);

export async function listOpenAIModels(ctx: ServerContext) {
  const stored = await ctx.store.list();
  stored.sort((a, b) => b.modifiedAt.getTime() - a.modifiedAt.getTime());
  return {
    object: "list",
    data: stored.map((s) => ({ id: displayShortest(s.name), object: "model", created: unix(s.modifiedAt), owned_by: s.name.namespace })),
  };
}

export async function retrieveOpenAIModel(ctx: ServerContext, id: string) {
  const name = parseModelName(id);
  const stored = name ? await ctx.store.readManifest(name) : undefined;
  if (!stored) throw notFound(`model '${name ? displayShortest(name) : id}' not found`);
  return { id, object: "model", created: unix(stored.modifiedAt), owned_by: stored.name.namespace };
}
