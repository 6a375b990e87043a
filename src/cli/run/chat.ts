// One turn of the interactive `run`: /api/chat with the whole conversation, the answer
// streamed to the terminal. Returns the assistant's message, or undefined when Ctrl+C cut it off.
import type { Message } from "../../api/inference.js";
import type { ChatChunk, Client } from "../client.js";
import { Progress } from "../progress/progress.js";
import { cancelOnInterrupt } from "./cancel.js";
import { turnPrinter } from "./output.js";
import { formatField, type RunSession } from "./session.js";
import { statsSummary } from "./stats.js";

export async function chatTurn(client: Client, session: RunSession): Promise<Message | undefined> {
  const body = {
    model: session.model,
    messages: session.messages,
    format: formatField(session.format),
    options: session.options,
    keep_alive: session.keepAlive,
    think: session.think,
  };
  const printer = turnPrinter(session);
  const progress = new Progress();
  progress.spinner("");
  const cancel = cancelOnInterrupt();
  let last: ChatChunk | undefined;
  let role = "assistant";
  try {
    await client.chat(
      body,
      (c) => {
        last = c;
        role = c.message.role || role;
        if (c.message.content || !session.hideThinking) progress.stopAndClear();
        printer.push(c.message.thinking, c.message.content, c.message.tool_calls);
      },
      cancel.signal,
    );
  } catch (e) {
    if (cancel.signal.aborted) {
      printer.abandon();
      return undefined;
    }
    throw e;
  } finally {
    progress.stopAndClear();
    cancel.dispose();
  }
  if (session.messages.length) process.stdout.write("\n\n");
  if (last && session.verbose) process.stderr.write(statsSummary(last));
  const reply: Message = { role, content: printer.content };
  if (printer.thinking) reply.thinking = printer.thinking;
  return reply;
}
