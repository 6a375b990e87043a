// Streams model text to a terminal, moving a word that would cross the right margin onto the
// next line (the text arrives a token at a time, so a word already printed is erased and
// rewritten). Without wrapping the text passes through unchanged.
import { ansi, charWidth, displayWidth } from "../term.js";

export class WordWrapper {
  private lineLength = 0;
  private word = "";

  constructor(
    private readonly write: (s: string) => void,
    private readonly width: number | undefined,
  ) {}

  /** Starts a fresh line state (after text printed outside this wrapper). */
  reset(): void {
    this.lineLength = 0;
    this.word = "";
  }

  push(text: string): void {
    if (!this.width || this.width < 10) return void this.write(text);
    const limit = this.width - 5;
    let out = "";
    for (const ch of text) {
      const w = charWidth(ch);
      if (ch === "\n" || ch === "\r") {
        out += ch;
        this.reset();
      } else if (this.lineLength + w > limit) {
        if (ch === " " || ch === "\t") {
          out += "\n";
          this.reset();
        } else if (displayWidth(this.word) > this.width - 10) {
          // A word too long to move is broken where it is.
          out += `\n${ch}`;
          this.lineLength = w;
          this.word = ch;
        } else {
          out += `${ansi.left(displayWidth(this.word))}${ansi.clearToEol}\n${this.word}${ch}`;
          this.word += ch;
          this.lineLength = displayWidth(this.word);
        }
      } else {
        out += ch;
        this.lineLength += w;
        // Wide (CJK) characters may break anywhere; spaces end a word.
        if (w >= 2 || ch === " " || ch === "\t") this.word = "";
        else this.word += ch;
      }
    }
    this.write(out);
  }
}
