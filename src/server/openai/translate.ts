// Pieces shared by the OpenAI translators: sampling defaults, stop lists, image data URLs.
import { badRequest } from "../../api/errors.js";

/** OpenAI's defaults differ from Ollama's: temperature and top_p are 1 unless given. */
export function openAIOptions(r: {
  temperature?: number;
  top_p?: number;
  seed?: number;
  frequency_penalty?: number;
  presence_penalty?: number;
}): Record<string, unknown> {
  const o: Record<string, unknown> = { temperature: r.temperature ?? 1, top_p: r.top_p || 1 };
  if (r.seed !== undefined) o.seed = r.seed;
  if (r.frequency_penalty !== undefined) o.frequency_penalty = r.frequency_penalty;
  if (r.presence_penalty !== undefined) o.presence_penalty = r.presence_penalty;
  return o;
}

export function stopList(stop: unknown): string[] {
  if (typeof stop === "string") return [stop];
  if (Array.isArray(stop)) {
    for (const s of stop) {
      if (typeof s !== "string") throw badRequest(`invalid type for 'stop' field: ${typeof s === "number" ? "float64" : typeof s}`);
    }
    return stop as string[];
  }
  if (stop == null) return [];
  throw badRequest(`invalid type for 'stop' field: ${typeof stop}`);
}

/** A base64 `data:` URL -> the base64 payload; remote URLs are not fetched. */
export function imageFromUrl(url: string): string {
  if (/^https?:\/\//i.test(url)) throw badRequest("image URLs are not currently supported, please use base64 encoded data instead");
  const m = /^data:(?:image\/(?:jpeg|jpg|png|webp))?;base64,(.*)$/is.exec(url);
  if (!m || !/^[A-Za-z0-9+/=\s]*$/.test(m[1]!)) throw badRequest("invalid image input");
  return m[1]!.replace(/\s/g, "");
}
