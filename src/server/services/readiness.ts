// Readiness: can this server take work? The models directory must be readable and writable and an
// engine must be usable (the same choice a model load makes).
import { constants } from "node:fs";
import { access } from "node:fs/promises";
import { selectEngine } from "../../engine/select.js";
import type { ServerContext } from "./context.js";

export type Readiness = { ready: true } | { ready: false; reason: string };

export async function readiness(ctx: ServerContext): Promise<Readiness> {
  try {
    await access(ctx.config.models, constants.R_OK | constants.W_OK);
  } catch (e) {
    return { ready: false, reason: `models directory ${ctx.config.models} is not readable and writable: ${(e as Error).message}` };
  }
  try {
    selectEngine(ctx.config.engine, ctx.config.engineCache);
  } catch (e) {
    return { ready: false, reason: (e as Error).message };
  }
  return { ready: true };
}
