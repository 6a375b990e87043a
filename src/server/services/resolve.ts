// Turns the model string of a request into a stored model, with each endpoint's error wording.
import { ApiError } from "../../api/errors.js";
import { readModel, type StoredModel } from "../../store/model.js";
import { parseModelName } from "../../store/name.js";
import type { ModelStore } from "../../store/store.js";

export interface NotFoundWording {
  /** Error when the model string is empty. */
  empty: ApiError;
  /** Error when no manifest matches; gets the model string as sent. */
  missing: (sent: string) => ApiError;
}

export async function resolveModel(store: ModelStore, sent: string, wording: NotFoundWording): Promise<StoredModel> {
  const raw = sent.trim();
  if (raw === "") throw wording.empty;
  const name = parseModelName(raw);
  if (!name) throw new ApiError(400, "invalid model name");
  const model = await readModel(store, name);
  if (!model) throw wording.missing(sent);
  return model;
}
