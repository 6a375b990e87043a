// Fitting a conversation into num_ctx (Ollama's chatPrompt): drop messages from the front until the
// rendered prompt fits, keeping the system messages that were dropped and always the last message.
import type { Message } from "../api/inference.js";
import { tagImages } from "./messages.js";

export interface FitOptions {
  numCtx: number;
  /** Drop old messages when too long (the request's `truncate`, default true). */
  truncate: boolean;
  /** Tokens each image counts for (768 for models with a projector, else 0). */
  imageTokens: number;
  /** Add `[img-N]` markers to image messages. */
  imageMarkers: boolean;
}

export interface Fitted {
  prompt: string;
  /** Images in the kept messages. */
  images: number;
  /** Those images, in order: `[img-N]` names the Nth. */
  imageData: string[];
}

export async function fitMessages(
  messages: Message[],
  render: (messages: Message[]) => string,
  countTokens: (text: string) => Promise<number>,
  opts: FitOptions,
): Promise<Fitted> {
  let start = 0;
  let system: Message[] = [];
  if (opts.truncate) {
    for (let i = 0; i < messages.length; i++) {
      system = messages.slice(0, i).filter((m) => m.role === "system");
      const kept = messages.slice(i);
      let n = await countTokens(render([...system, ...kept]));
      n += opts.imageTokens * kept.reduce((k, m) => k + (m.images?.length ?? 0), 0);
      if (n <= opts.numCtx || i === messages.length - 1) {
        start = i;
        break;
      }
    }
  }
  const kept = messages.slice(start);
  const tagged = tagImages(kept);
  const shown = opts.imageMarkers ? tagged.messages : kept;
  return { prompt: render([...system, ...shown]), images: tagged.images, imageData: tagged.data };
}
