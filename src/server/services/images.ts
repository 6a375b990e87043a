// Images of a request, made ready for the engine before a runner is taken: the model must have a
// projector and the engine must read images; each image is decoded (PNG, JPEG, WebP, GIF's first
// frame, TIFF), flattened, shrunk to what the projector takes and re-encoded as PNG, so the engine
// gets one format it always reads and a bad payload is the client's 400, never the runner's failure.
import sharp from "sharp";
import { badRequest } from "../../api/errors.js";
import type { Message } from "../../api/inference.js";
import { kvNumber } from "../../gguf/info.js";
import { readGguf } from "../../gguf/reader.js";
import { IMAGES_NEED_LLAMA_SERVER, NO_VISION_MESSAGE } from "../../runner/protocol.js";
import type { Prepared } from "./inference-prep.js";

// One libvips thread per image: images are small next to inference, and requests decode in parallel
// on Node's own pool. No cache: an image is decoded once per request.
sharp.concurrency(1);
sharp.cache(false);

const FORMATS = new Set(["png", "jpeg", "webp", "gif", "tiff"]);
/** Decoding bombs: more pixels than this is refused before decoding (about a 16k x 16k image). */
const MAX_INPUT_PIXELS = 16384 * 16384;
/** Longest side for projectors that tile or take any resolution and name no limit of their own. */
const DYNAMIC_MAX_SIDE = 2048;

const limits = new Map<string, Promise<number>>();

/** The longest side an image needs for this projector: its input size, or more when it tiles. */
function projectorMaxSide(path: string): Promise<number> {
  let p = limits.get(path);
  if (!p) {
    p = readGguf(path).then((f) => {
      const size = kvNumber(f, "clip.vision.image_size") ?? 0;
      const maxPixels = kvNumber(f, "clip.vision.image_max_pixels");
      if (maxPixels) return Math.max(size, Math.ceil(Math.sqrt(maxPixels)));
      const tiles = ["clip.vision.image_grid_pinpoints", "clip.vision.preproc_max_tiles", "clip.minicpmv_version"];
      if (tiles.some((k) => f.metadata.has(k)) || size <= 0) return Math.max(size, DYNAMIC_MAX_SIDE);
      return size;
    });
    p.catch(() => limits.delete(path));
    limits.set(path, p);
  }
  return p;
}

/** One image as PNG (base64), no side longer than `maxSide`; a payload that is no image is a 400. */
export async function normaliseImage(base64: string, maxSide: number): Promise<string> {
  const bytes = Buffer.from(base64, "base64");
  if (bytes.length === 0) throw badRequest("invalid image input: the image is empty");
  try {
    // pages: 1 is the first frame of an animation.
    const img = sharp(bytes, { pages: 1, limitInputPixels: MAX_INPUT_PIXELS });
    const meta = await img.metadata();
    if (!meta.format || !FORMATS.has(meta.format)) throw new Error("not a PNG, JPEG, WebP or GIF image");
    // EXIF orientation applied; transparency over white, as a viewer shows it.
    const out = img.rotate().flatten({ background: "#ffffff" });
    if (Math.max(meta.width ?? 0, meta.height ?? 0) > maxSide) out.resize(maxSide, maxSide, { fit: "inside" });
    return (await out.png().toBuffer()).toString("base64");
  } catch (e) {
    throw badRequest(`invalid image input: ${(e as Error).message.replace(/^Input buffer contains unsupported image format$/, "not a PNG, JPEG, WebP or GIF image")}`);
  }
}

/** Checks that this model on this engine reads images, and normalises them (empty in, empty out). */
export async function requestImages(p: Prepared, images: string[] | undefined): Promise<string[]> {
  if (!images?.length) return [];
  const projector = p.model.projectorPaths[0];
  if (!projector) throw badRequest(NO_VISION_MESSAGE);
  if (p.load.driver !== "llama-server") throw badRequest(IMAGES_NEED_LLAMA_SERVER);
  const maxSide = await projectorMaxSide(projector);
  return Promise.all(images.map((i) => normaliseImage(i, maxSide)));
}

/** The messages with their images normalised (see requestImages). */
export async function messageImages(p: Prepared, messages: Message[]): Promise<Message[]> {
  if (!messages.some((m) => m.images?.length)) return messages;
  return Promise.all(messages.map(async (m) => (m.images?.length ? { ...m, images: await requestImages(p, m.images) } : m)));
}
