// A status line with an animated braille glyph while its work runs; the glyph goes when stopped.

const FRAMES = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

export class Spinner {
  private readonly started = Date.now();
  private stopped = false;

  constructor(public message: string) {}

  stop(): void {
    this.stopped = true;
  }

  render(): string {
    const message = this.message.trim();
    let line = message ? `${message} ` : "";
    if (!this.stopped) line += `${FRAMES[Math.floor((Date.now() - this.started) / 100) % FRAMES.length]} `;
    return line;
  }

  plain(): string {
    return this.message.trim();
  }
}
