// Loading and unloading a model with an empty generate request (keep_alive 0 unloads), as
// `run` does before a chat and `stop` / `rm` do to free a model's memory.
import type { Client, KeepAliveWire, Think } from "./client.js";
import { Progress } from "./progress/progress.js";

export async function loadOrUnload(client: Client, model: string, opts: { keepAlive?: KeepAliveWire; think?: Think }): Promise<void> {
  const progress = new Progress();
  progress.spinner("");
  try {
    await client.show({ model });
    await client.generate({ model, keep_alive: opts.keepAlive, think: opts.think }, () => undefined);
  } finally {
    progress.stopAndClear();
  }
}
