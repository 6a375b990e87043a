// A block of status lines (spinners and bars) redrawn in place ten times a second on a terminal.
// When the stream is not a terminal nothing animates and no escape codes are written: each line
// is printed once, in its final form, when the next one starts or progress stops.
import { ansi, isTerminal, terminalHeight, terminalWidth, truncateToWidth } from "../term.js";
import { Bar } from "./bar.js";
import { Spinner } from "./spinner.js";

export type ProgressState = Spinner | Bar;

export class Progress {
  private readonly states: ProgressState[] = [];
  private readonly tty: boolean;
  private timer: NodeJS.Timeout | undefined;
  /** Lines drawn by the last render (tty) / states already printed (plain). */
  private drawn = 0;
  private stopped = false;

  constructor(private readonly stream: NodeJS.WriteStream = process.stderr) {
    this.tty = isTerminal(stream);
    if (this.tty) {
      this.timer = setInterval(() => this.render(), 100);
      this.timer.unref();
    }
  }

  add(state: ProgressState): void {
    if (this.stopped) return;
    this.states.push(state);
    if (!this.tty) this.flushPlain(this.states.length - 1);
  }

  spinner(message: string): Spinner {
    const s = new Spinner(message);
    this.add(s);
    return s;
  }

  /** Final render, leaving the lines on screen. */
  stop(): void {
    if (this.finish()) return;
    if (this.tty) {
      this.render();
      if (this.drawn > 0) this.stream.write("\n");
    } else {
      this.flushPlain(this.states.length);
    }
  }

  /** Removes the lines (transient spinners, e.g. while waiting for a model's first token). */
  stopAndClear(): void {
    if (this.finish() || !this.tty) return;
    let out = ansi.hideCursor;
    for (let i = 0; i < this.drawn; i++) out += (i > 0 ? ansi.up : "") + ansi.clearLine + ansi.lineStart;
    this.stream.write(out + ansi.showCursor);
    this.drawn = 0;
  }

  /** Returns true when already stopped. */
  private finish(): boolean {
    if (this.stopped) return true;
    this.stopped = true;
    clearInterval(this.timer);
    for (const s of this.states) if (s instanceof Spinner) s.stop();
    return false;
  }

  private flushPlain(upTo: number): void {
    for (; this.drawn < upTo; this.drawn++) {
      const line = this.states[this.drawn]!.plain();
      if (line) this.stream.write(line + "\n");
    }
  }

  private render(): void {
    if (this.states.length === 0 && this.drawn === 0) return;
    const width = terminalWidth(this.stream);
    const visible = this.states.slice(-terminalHeight(this.stream));
    let out = ansi.syncStart + ansi.hideCursor;
    for (let i = 0; i < this.drawn - 1; i++) out += ansi.up;
    out += ansi.lineStart;
    // Lines never reach the last column, so they never wrap: a wrapped line would break the
    // cursor arithmetic of the next redraw.
    out += visible.map((s) => truncateToWidth(s.render(width), width - 1) + ansi.clearToEol).join("\n");
    this.stream.write(out + ansi.showCursor + ansi.syncEnd);
    this.drawn = visible.length;
  }
}
