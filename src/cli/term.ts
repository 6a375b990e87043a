// Terminal facts the CLI adapts to: whether a stream is a terminal (no colours, spinners or
// cursor movement otherwise), its width, display widths of text, and the escape codes we use.
import { eastAsianWidth } from "get-east-asian-width";

export const ESC = "\x1b";
export const ansi = {
  grey: `${ESC}[38;5;245m`,
  bold: `${ESC}[1m`,
  reset: `${ESC}[0m`,
  clearToEol: `${ESC}[K`,
  clearLine: `${ESC}[2K`,
  lineStart: `${ESC}[1G`,
  up: `${ESC}[A`,
  hideCursor: `${ESC}[?25l`,
  showCursor: `${ESC}[?25h`,
  syncStart: `${ESC}[?2026h`,
  syncEnd: `${ESC}[?2026l`,
  bracketedPasteOn: `${ESC}[?2004h`,
  bracketedPasteOff: `${ESC}[?2004l`,
  left: (n: number) => (n > 0 ? `${ESC}[${n}D` : ""),
};

export function isTerminal(stream: NodeJS.ReadStream | NodeJS.WriteStream): boolean {
  return Boolean(stream.isTTY);
}

export function terminalWidth(stream: NodeJS.WriteStream, fallback = 80): number {
  return stream.isTTY && stream.columns > 0 ? stream.columns : fallback;
}

export function terminalHeight(stream: NodeJS.WriteStream, fallback = 24): number {
  return stream.isTTY && stream.rows > 0 ? stream.rows : fallback;
}

const ZERO_WIDTH = /[\p{Mn}\p{Me}\p{Cf}\p{Cc}]/u;

/** Columns one character takes: 2 for wide East Asian characters, 0 for combining marks. */
export function charWidth(ch: string): number {
  if (ZERO_WIDTH.test(ch)) return 0;
  return eastAsianWidth(ch.codePointAt(0)!);
}

export function displayWidth(s: string): number {
  let w = 0;
  for (const ch of s) w += charWidth(ch);
  return w;
}

export function padRight(s: string, width: number): string {
  return s + " ".repeat(Math.max(0, width - displayWidth(s)));
}

/** Cuts `s` to at most `width` columns. */
export function truncateToWidth(s: string, width: number): string {
  if (displayWidth(s) <= width) return s;
  let out = "";
  let w = 0;
  for (const ch of s) {
    const cw = charWidth(ch);
    if (w + cw > width) break;
    out += ch;
    w += cw;
  }
  return out;
}
