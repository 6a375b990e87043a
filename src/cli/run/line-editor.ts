// The interactive prompt on top of Node's readline (editing keys, history, Ctrl+L, ...), adding
// what Ollama's prompt has: a grey placeholder on an empty line, bracketed paste (pasted lines
// do not send), Ctrl+C that abandons the line, and a persistent history file. Lines typed
// ahead are queued; while a response streams the terminal is in cooked mode so Ctrl+C is a
// real SIGINT that cancels it.
import { createInterface, type Interface, type Key } from "node:readline";
import { ansi, displayWidth } from "../term.js";
import { HISTORY_LIMIT, loadHistory, saveHistory } from "./history.js";

export type ReadResult =
  | { kind: "line"; text: string; pasting: boolean }
  | { kind: "interrupt"; text: string }
  | { kind: "eof" };

/** readline keeps these public but read-only in its types; Ctrl+C has to empty them without a redraw. */
interface MutableLine {
  line: string;
  cursor: number;
}

export class LineEditor {
  private readonly rl: Interface;
  private readonly queue: ReadResult[] = [];
  private waiting: ((r: ReadResult) => void) | undefined;
  private prompting = false;
  private placeholder = "";
  private placeholderShown = false;
  private pasting = false;
  historyEnabled = true;

  constructor(
    private readonly input: NodeJS.ReadStream,
    private readonly output: NodeJS.WriteStream,
    historyFile: string,
  ) {
    // Before readline sees a key: drop the placeholder, track paste brackets.
    input.prependListener("keypress", this.beforeKey);
    this.rl = createInterface({
      input,
      output,
      terminal: true,
      history: loadHistory(historyFile).reverse(),
      historySize: HISTORY_LIMIT,
    });
    input.on("keypress", this.afterKey);
    this.rl.on("history", (entries: string[]) => {
      if (!this.historyEnabled && entries[0] === this.rl.line) entries.shift();
      saveHistory(historyFile, [...entries].reverse());
    });
    this.rl.on("line", (text) => this.deliver({ kind: "line", text, pasting: this.pasting }));
    this.rl.on("SIGINT", () => {
      const text = this.rl.line;
      const state = this.rl as unknown as MutableLine;
      state.line = "";
      state.cursor = 0;
      this.deliver({ kind: "interrupt", text });
    });
    this.rl.on("close", () => this.deliver({ kind: "eof" }));
  }

  /** The next input: a line, Ctrl+C, or end of input (Ctrl+D on an empty line). */
  read(prompt: string, placeholder: string): Promise<ReadResult> {
    const queued = this.queue.shift();
    if (queued) return Promise.resolve(queued);
    if (this.input.isTTY) this.input.setRawMode(true);
    this.rl.setPrompt(prompt);
    this.placeholder = placeholder;
    this.prompting = true;
    this.rl.prompt(true);
    this.showPlaceholder();
    return new Promise((resolve) => (this.waiting = resolve));
  }

  /** While a response streams: the terminal handles keys itself, so Ctrl+C raises SIGINT. */
  suspend(): void {
    this.rl.pause();
    if (this.input.isTTY) this.input.setRawMode(false);
  }

  close(): void {
    this.input.off("keypress", this.beforeKey);
    this.input.off("keypress", this.afterKey);
    this.rl.close();
  }

  private deliver(r: ReadResult): void {
    this.prompting = false;
    const waiting = this.waiting;
    this.waiting = undefined;
    if (waiting) waiting(r);
    else this.queue.push(r);
  }

  private showPlaceholder(): void {
    if (!this.prompting || this.placeholderShown || this.pasting || !this.placeholder || this.rl.line !== "") return;
    this.output.write(ansi.grey + this.placeholder + ansi.left(displayWidth(this.placeholder)) + ansi.reset);
    this.placeholderShown = true;
  }

  private readonly beforeKey = (_s: string | undefined, key: Key | undefined): void => {
    if (key?.name === "paste-start") this.pasting = true;
    if (key?.name === "paste-end") this.pasting = false;
    if (this.placeholderShown) {
      this.output.write(ansi.clearToEol);
      this.placeholderShown = false;
    }
  };

  private readonly afterKey = (): void => {
    this.showPlaceholder();
  };
}
