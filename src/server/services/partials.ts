// Partial downloads as the API shows them: newest first, with whether a pull is running each.
import type { PartialsResponse } from "../../api/partials.js";
import { registryFor } from "../../registry/service.js";
import { localTimestamp } from "../time.js";
import type { ServerContext } from "./context.js";

export async function listPartials(ctx: ServerContext): Promise<PartialsResponse> {
  const partials = await registryFor(ctx.store).partials();
  partials.sort((a, b) => b.modifiedAt.getTime() - a.modifiedAt.getTime());
  return {
    partials: partials.map((p) => ({
      name: p.name,
      digest: p.digest,
      total: p.total,
      completed: p.completed,
      modified_at: localTimestamp(p.modifiedAt),
      downloading: p.downloading,
    })),
  };
}

/** 400 for a malformed digest, 404 when there is no such partial, 409 while it is downloading. */
export function removePartial(ctx: ServerContext, digest: string): Promise<void> {
  return registryFor(ctx.store).removePartial(digest);
}
