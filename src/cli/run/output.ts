// Where a turn's text goes and how it is shaped: word-wrapped to the terminal's width and
// coloured only when stdout is a terminal.
import { isTerminal, terminalWidth } from "../term.js";
import type { RunSession } from "./session.js";
import { TurnPrinter } from "./turn.js";

export function turnPrinter(session: RunSession): TurnPrinter {
  const tty = isTerminal(process.stdout);
  return new TurnPrinter((s) => process.stdout.write(s), {
    hideThinking: session.hideThinking,
    plain: !tty,
    wrapWidth: tty && session.wordWrap ? terminalWidth(process.stdout) : undefined,
  });
}
