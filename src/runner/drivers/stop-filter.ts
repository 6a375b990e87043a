// Stop strings matched on streamed text, the same way for every driver.
/**
 * Ollama's stop-string handling on streamed text: text that could be the start of a stop string is held
 * back; once a stop string appears, only the text before it is emitted.
 */
export class StopFilter {
  private held = "";
  private readonly stops: string[];
  stopped = false;
  /** Everything emitted so far (the response, for `context`). */
  text = "";

  constructor(
    stops: string[],
    private readonly emit: (text: string) => void,
  ) {
    this.stops = stops.filter((s) => s !== "");
  }

  /** Returns true once a stop string has been seen (later input is ignored). */
  push(chunk: string): boolean {
    if (this.stopped) return true;
    const buf = this.held + chunk;
    let cut = -1;
    for (const s of this.stops) {
      const i = buf.indexOf(s);
      if (i >= 0 && (cut < 0 || i < cut)) cut = i;
    }
    if (cut >= 0) {
      this.stopped = true;
      this.held = "";
      this.out(buf.slice(0, cut));
      return true;
    }
    // Hold back the longest tail that is a proper prefix of some stop string.
    let keep = 0;
    for (const s of this.stops)
      for (let n = Math.min(s.length - 1, buf.length); n > keep; n--)
        if (buf.endsWith(s.slice(0, n))) {
          keep = n;
          break;
        }
    this.held = buf.slice(buf.length - keep);
    this.out(buf.slice(0, buf.length - keep));
    return false;
  }

  flush(): void {
    if (!this.stopped) this.out(this.held);
    this.held = "";
  }

  private out(text: string): void {
    if (text === "") return;
    this.text += text;
    this.emit(text);
  }
}
