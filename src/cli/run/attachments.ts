// Image and audio files named in a prompt for vision/audio models: paths like /a/b.png,
// ./x.jpg or C:\y.webp (spaces may be escaped) are read, checked by content, attached as
// base64, and removed from the text.
import { open } from "node:fs/promises";
import { extname } from "node:path";

const FILE_PATH = /(?:[a-zA-Z]:)?(?:\.\/|\/|\\)[\S\\ ]+?\.(?:jpg|jpeg|png|webp|wav)\b/gi;
const MAX_SIZE = 100 * 1024 * 1024;

/** Undoes shell-style escapes in a pasted path ("\ " -> " ", "\(" -> "(", ...). */
export function normalizeFilePath(path: string): string {
  return path.replace(/\\([ ()[\]{}$&;'\\*?~])/g, "$1");
}

export function extractFileNames(input: string): string[] {
  return input.match(FILE_PATH) ?? [];
}

/** The media types Ollama accepts, told from the first bytes as Go's http.DetectContentType would. */
function sniff(head: Buffer): string {
  if (head.length >= 3 && head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff) return "image/jpeg";
  if (head.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) return "image/png";
  const riff = head.subarray(0, 4).toString("latin1") === "RIFF";
  if (riff && head.subarray(8, 14).toString("latin1") === "WEBPVP") return "image/webp";
  if (riff && head.subarray(8, 12).toString("latin1") === "WAVE") return "audio/wave";
  const binary = head.some((b) => b <= 0x08 || b === 0x0b || (b >= 0x0e && b <= 0x1a) || (b >= 0x1c && b <= 0x1f));
  return binary ? "application/octet-stream" : "text/plain; charset=utf-8";
}

/** A file's bytes if it is an accepted image/audio file; undefined when it does not exist. */
async function mediaData(path: string): Promise<Buffer | undefined> {
  let fh;
  try {
    fh = await open(path, "r");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw e;
  }
  try {
    const head = Buffer.alloc(512);
    const { bytesRead } = await fh.read(head, 0, 512, 0);
    const type = sniff(head.subarray(0, bytesRead));
    if (!["image/jpeg", "image/png", "image/webp", "audio/wave"].includes(type)) throw new Error(`invalid file type: ${type}`);
    const { size } = await fh.stat();
    if (size > MAX_SIZE) throw new Error("file size exceeds maximum limit (100MB)");
    return await fh.readFile();
  } finally {
    await fh.close();
  }
}

/** The prompt without its attachment paths, and the attachments (base64); reports each on `log`. */
export async function extractAttachments(input: string, log: (line: string) => void): Promise<{ text: string; images: string[] }> {
  const images: string[] = [];
  let text = input;
  for (const found of extractFileNames(input)) {
    const path = normalizeFilePath(found);
    let data: Buffer | undefined;
    try {
      data = await mediaData(path);
    } catch (e) {
      log(`Couldn't process file: ${JSON.stringify((e as Error).message)}`);
      throw e;
    }
    if (!data) continue;
    log(extname(path).toLowerCase() === ".wav" ? `Added audio '${path}'` : `Added image '${path}'`);
    text = text.split(`'${path}'`).join("").split(`'${found}'`).join("").split(found).join("");
    images.push(data.toString("base64"));
  }
  return { text: text.trim(), images };
}
