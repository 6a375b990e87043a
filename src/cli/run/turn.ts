// Prints one model turn as it streams: thinking between "Thinking..." and "...done thinking."
// (grey on a terminal) unless hidden, then the answer, word-wrapped on a terminal.
import type { ToolCall } from "../../api/inference.js";
import { ansi } from "../term.js";
import { WordWrapper } from "./wrap.js";

export interface TurnOptions {
  hideThinking: boolean;
  /** No colours (output is not a terminal). */
  plain: boolean;
  /** Terminal width to wrap at; undefined for no wrapping. */
  wrapWidth: number | undefined;
}

export class TurnPrinter {
  thinking = "";
  content = "";
  /** Anything written yet (a cut-off turn still needs its line ended). */
  printed = false;
  private thinkingOpen = false;
  private readonly wrapper: WordWrapper;

  private readonly write: (s: string) => void;

  constructor(
    write: (s: string) => void,
    private readonly opts: TurnOptions,
  ) {
    this.write = (s) => {
      if (s) this.printed = true;
      write(s);
    };
    this.wrapper = new WordWrapper(this.write, opts.wrapWidth);
  }

  /** Ends a turn that was cut off: colours off, and the cursor on a fresh line. */
  abandon(): void {
    if (!this.printed) return;
    this.write((this.opts.plain ? "" : ansi.reset) + "\n\n");
  }

  private style(text: string, closing: boolean): string {
    if (this.opts.plain) return text;
    return ansi.grey + ansi.bold + text + ansi.reset + (closing ? "" : ansi.grey);
  }

  push(thinking: string | undefined, content: string | undefined, toolCalls?: ToolCall[]): void {
    if (thinking && !this.opts.hideThinking) {
      if (!this.thinkingOpen) {
        this.write(this.style("Thinking...\n", false));
        this.thinkingOpen = true;
      }
      this.thinking += thinking;
      this.wrapper.push(thinking);
    }
    if (this.thinkingOpen && (content || toolCalls?.length)) {
      if (!this.thinking.endsWith("\n")) this.write("\n");
      this.write(this.style("...done thinking.\n\n", true));
      this.thinkingOpen = false;
      this.wrapper.reset();
    }
    if (content) {
      this.content += content;
      this.wrapper.push(content);
    }
    if (toolCalls?.length) this.write(this.toolCalls(toolCalls));
  }

  /** The CLI offers no tools, so any call is reported rather than run. */
  private toolCalls(calls: ToolCall[]): string {
    const [explain, value] = this.opts.plain ? ["", ""] : [ansi.grey + ansi.bold, ansi.reset];
    const lines = calls.map(
      (c) =>
        `  Model called a non-existent function '${value}${c.function.name}()${explain}' with arguments: ${value}${JSON.stringify(c.function.arguments)}${explain}`,
    );
    return explain + lines.join("\n") + (this.opts.plain ? "" : ansi.reset);
  }
}
