// `run` with an embedding model: the prompt's embedding printed as a JSON array.
import type { Client, EmbedBody } from "../client.js";
import { shortestFloat32 } from "../format.js";

export async function printEmbedding(client: Client, body: EmbedBody): Promise<void> {
  const { embeddings } = await client.embed(body);
  const first = embeddings?.[0];
  if (!first) throw new Error("no embeddings returned");
  // Go's JSON encoder prints []float32 values in their shortest float32 spelling.
  process.stdout.write(`[${first.map((v) => String(shortestFloat32(v))).join(",")}]\n`);
}
