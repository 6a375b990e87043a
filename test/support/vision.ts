// A vision model built at test time: random llama weights of embedding width 128 (the width of the
// tiny gemma3 projector's output) with stories260K's tokenizer, plus test images made with sharp.
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import sharp from "sharp";
import { buildRandomLlama } from "../../bench/random-model.js";
import { postJson, SHARED, STORIES, uploadBlob } from "./server.js";

export const PROJECTOR = join(SHARED, "models/multimodal/mmproj-tinygemma3.gguf");
/** Tokens the tiny gemma3 projector gives one image. */
export const IMAGE_TOKENS = 256;
/**
 * Text tokens llama.cpp puts around a gemma3 image ("<start_of_image>" and "<end_of_image>" with blank
 * lines, which stories260K's small vocabulary spells in many pieces), less the marker's own text.
 */
export const IMAGE_WRAP = 32;

/**
 * Writes the text model. buildRandomLlama zeroes the output rows of EOS, control and byte tokens, so
 * greedy decoding always runs to num_predict and always yields valid UTF-8.
 */
export async function buildVisionLlama(dir?: string): Promise<string> {
  const path = join(dir ?? (await mkdtemp(join(tmpdir(), "corral-vision-"))), "vision-llama.gguf");
  await buildRandomLlama(path, {
    dim: 128, layers: 2, heads: 4, kvHeads: 4, ffn: 256, contextLength: 4096, weightType: "F32", seed: 7, vocabFile: STORIES,
  });
  return path;
}

/** Creates `name` from the text model and the projector as two uploaded files. */
export async function createVisionModel(url: string, name: string, modelPath: string): Promise<void> {
  const files = { "vision-llama.gguf": await uploadBlob(url, modelPath), "mmproj.gguf": await uploadBlob(url, PROJECTOR) };
  const res = await postJson(url, "/api/create", { model: name, files, stream: false });
  if (res.status !== 200) throw new Error(`create failed: ${res.status} ${res.text}`);
}

type Colour = { r: number; g: number; b: number };

export const RED: Colour = { r: 255, g: 0, b: 0 };
export const BLUE: Colour = { r: 0, g: 0, b: 255 };
export const GREEN: Colour = { r: 0, g: 200, b: 0 };

function solid(c: Colour, width: number, height: number) {
  return sharp({ create: { width, height, channels: 3, background: c } });
}

export const png = (c: Colour, width = 64, height = 64) => solid(c, width, height).png().toBuffer();
export const jpeg = (c: Colour, width = 64, height = 64) => solid(c, width, height).jpeg().toBuffer();
export const webp = (c: Colour, width = 64, height = 64) => solid(c, width, height).webp().toBuffer();
export const gif = (c: Colour, width = 64, height = 64) => solid(c, width, height).gif().toBuffer();

export const b64 = (b: Buffer) => b.toString("base64");
