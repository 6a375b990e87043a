// Uploads a Modelfile's local files as blobs before /api/create: files the server already holds
// are skipped (HEAD /api/blobs), the rest stream up with a progress bar each.
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import type { Client } from "../client.js";
import { Bar } from "../progress/bar.js";
import type { Progress } from "../progress/progress.js";

async function* counted(path: string, onBytes: (n: number) => void): AsyncGenerator<Uint8Array> {
  let sent = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) {
    sent += (chunk as Buffer).length;
    onBytes(sent);
    yield chunk as Buffer;
  }
}

/** `files`: local path -> "sha256:<hex>". */
export async function uploadBlobs(client: Client, files: Map<string, string>, progress: Progress): Promise<void> {
  for (const [path, digest] of files) {
    if (await client.hasBlob(digest)) continue;
    const { size } = await stat(path);
    const bar = new Bar(`copying file ${digest.slice(0, 19)}`, size);
    progress.add(bar);
    await client.createBlob(digest, counted(path, (n) => bar.set(n)));
    bar.set(size);
  }
}
