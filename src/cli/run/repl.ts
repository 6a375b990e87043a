// The interactive `run` loop: reads lines (with """ blocks and pastes joined into one message),
// runs slash commands, and sends each message with the conversation so far to /api/chat.
import type { Message } from "../../api/inference.js";
import type { Client } from "../client.js";
import { ansi } from "../term.js";
import { extractAttachments } from "./attachments.js";
import { chatTurn } from "./chat.js";
import { historyPath } from "./history.js";
import { LineEditor } from "./line-editor.js";
import type { RunSession } from "./session.js";
import { setSystem, slashCommand, type Repl } from "./slash.js";

const PROMPT = ">>> ";
const CONTINUATION = "... ";
const PLACEHOLDER = "Send a message (/? for help)";
const CONTINUATION_PLACEHOLDER = "Press Enter to send";

/** Errors that end a turn but not the session. */
const RECOVERABLE = ["does not support thinking", "invalid think value"];

async function send(repl: Repl, text: string): Promise<void> {
  const { session } = repl;
  const message: Message = { role: "user", content: text };
  if (session.multiModal) {
    const { text: rest, images } = await extractAttachments(text, (l) => process.stderr.write(`${l}\n`));
    message.content = rest;
    if (images.length) message.images = images;
  }
  session.messages.push(message);
  repl.editor.suspend();
  try {
    const reply = await chatTurn(repl.client, session);
    if (reply) session.messages.push(reply);
  } catch (e) {
    const text = (e as Error).message;
    if (!RECOVERABLE.some((r) => text.includes(r))) throw e;
    process.stdout.write(`error: ${text}\n`);
  }
}

async function loop(repl: Repl): Promise<void> {
  let buffer = "";
  // Inside a """ block: its text goes to a message, or to the system prompt (/set system """).
  let block: "none" | "prompt" | "system" = "none";
  for (;;) {
    const alt = block !== "none" || buffer !== "";
    const input = await repl.editor.read(alt ? CONTINUATION : PROMPT, alt ? CONTINUATION_PLACEHOLDER : PLACEHOLDER);
    if (input.kind === "eof") return void process.stdout.write("\n");
    if (input.kind === "interrupt") {
      process.stdout.write(input.text ? "\n" : "\nUse Ctrl + d or /bye to exit.\n");
      buffer = "";
      block = "none";
      continue;
    }
    const line = input.text;
    if (block !== "none") {
      const closed = line.endsWith('"""');
      buffer += closed ? line.slice(0, -3) : line;
      if (!closed) {
        buffer += "\n";
        continue;
      }
      if (block === "system") {
        setSystem(repl.session, buffer);
        buffer = "";
      }
      block = "none";
    } else if (line.startsWith('"""')) {
      const rest = line.slice(3);
      const closed = rest.endsWith('"""');
      // A bare opening """ adds no empty first line.
      buffer += closed ? rest.slice(0, -3) : rest ? `${rest}\n` : "";
      if (!closed) {
        block = "prompt";
        continue;
      }
    } else if (input.pasting) {
      buffer += `${line}\n`;
      continue;
    } else if (line.startsWith("/")) {
      const outcome = await slashCommand(repl, line);
      if (outcome.kind === "exit") return;
      if (outcome.kind === "system-block") {
        buffer = `${outcome.text}\n`;
        block = "system";
        continue;
      }
      if (outcome.kind === "done") continue;
      buffer += line;
    } else {
      buffer += line;
    }
    if (buffer && block === "none") {
      await send(repl, buffer);
      buffer = "";
    }
  }
}

export async function interactive(client: Client, session: RunSession): Promise<void> {
  const editor = new LineEditor(process.stdin, process.stdout, historyPath());
  process.stdout.write(ansi.bracketedPasteOn);
  try {
    await loop({ client, session, editor });
  } finally {
    editor.close();
    process.stdout.write(ansi.bracketedPasteOff);
  }
}
