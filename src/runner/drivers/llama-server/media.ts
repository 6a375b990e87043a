// Images in a llama-server prompt: corral's rendered prompt names image N as `[img-N]`; llama-server
// takes a prompt string with its own media marker in each image's place and the image bytes in order.
// llama.cpp tokenizes the text around the markers and encodes each image with the projector.
import { EngineError } from "../engine.js";
import type { LlamaServerHttp } from "./http.js";

const IMAGE_TAG = /\[img-(\d+)\]/g;

/** The `/completion` prompt object: text with markers and the images they stand for. */
export interface MediaPrompt {
  prompt_string: string;
  multimodal_data: string[];
}

/** What llama-server's /props says about images: whether the projector reads them, and the marker it expects. */
export async function mediaMarker(http: LlamaServerHttp): Promise<string | undefined> {
  const props = await http.json<{ modalities?: { vision?: boolean }; media_marker?: string }>("GET", "/props");
  return props.modalities?.vision && props.media_marker ? props.media_marker : undefined;
}

/**
 * Replaces each `[img-N]` with the marker and lists image N in the same order (an image named twice
 * is sent twice, as the model sees it twice). `bosText` is dropped from the front: llama.cpp adds
 * the BOS itself when it tokenizes a multimodal prompt.
 */
export function mediaPrompt(prompt: string, images: string[], marker: string, bosText: string): MediaPrompt {
  const data: string[] = [];
  let text = bosText && prompt.startsWith(bosText) ? prompt.slice(bosText.length) : prompt;
  text = text.replace(IMAGE_TAG, (tag, n: string) => {
    const image = images[Number(n)];
    if (image === undefined) throw new EngineError(400, `invalid image index: ${n}`);
    data.push(image);
    return marker;
  });
  return { prompt_string: text, multimodal_data: data };
}

/** Whether a prompt names any image at all. */
export function namesImages(prompt: string): boolean {
  return new RegExp(IMAGE_TAG.source).test(prompt);
}
