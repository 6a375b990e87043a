// A non-interactive `run`: one streamed /api/generate for the prompt, then a blank line, and
// the statistics on stderr with --verbose. Ctrl+C stops it quietly.
import type { Client, GenerateChunk } from "../client.js";
import { Progress } from "../progress/progress.js";
import { extractAttachments } from "./attachments.js";
import { cancelOnInterrupt } from "./cancel.js";
import { turnPrinter } from "./output.js";
import { formatField, type RunSession } from "./session.js";
import { statsSummary } from "./stats.js";

export async function generateOnce(client: Client, session: RunSession, prompt: string): Promise<void> {
  let images: string[] | undefined;
  if (session.multiModal) {
    ({ text: prompt, images } = await extractAttachments(prompt, (l) => process.stderr.write(`${l}\n`)));
  }
  const body = {
    model: session.model,
    prompt,
    images: images?.length ? images : undefined,
    format: formatField(session.format),
    system: session.system || undefined,
    options: session.options,
    keep_alive: session.keepAlive,
    think: session.think,
  };
  const printer = turnPrinter(session);
  const progress = new Progress();
  progress.spinner("");
  const cancel = cancelOnInterrupt();
  let last: GenerateChunk | undefined;
  try {
    await client.generate(
      body,
      (c) => {
        last = c;
        if (c.response || !session.hideThinking) progress.stopAndClear();
        printer.push(c.thinking, c.response, c.tool_calls);
      },
      cancel.signal,
    );
  } catch (e) {
    if (cancel.signal.aborted) return;
    throw e;
  } finally {
    progress.stopAndClear();
    cancel.dispose();
  }
  if (prompt) process.stdout.write("\n\n");
  if (last?.done && session.verbose) process.stderr.write(statsSummary(last));
}
