// Splits streamed model output into thinking and content around an opening/closing tag pair
// (Ollama's thinking parser): leading whitespace before the opening tag and around the closing
// tag is dropped; a possible partial tag at the end of a chunk is held back.

type State = "looking" | "startedEating" | "thinking" | "doneEating" | "done";

export interface Split {
  thinking: string;
  content: string;
}

const trimLeft = (s: string) => s.replace(/^\s+/u, "");

/** Length of the longest suffix of `s` that is a prefix of `tag`. */
export function overlap(s: string, tag: string): number {
  for (let n = Math.min(s.length, tag.length); n > 0; n--) if (s.endsWith(tag.slice(0, n))) return n;
  return 0;
}

export class ThinkingParser {
  private state: State = "looking";
  private acc = "";

  constructor(
    readonly open: string,
    readonly close: string,
  ) {}

  /** Starts inside the thinking section (the prompt itself ended with the opening tag). */
  prefill(): void {
    this.add(this.open);
  }

  add(text: string): Split {
    this.acc += text;
    let thinking = "";
    let content = "";
    for (;;) {
      const [t, c, more] = this.eat();
      thinking += t;
      content += c;
      if (!more) break;
    }
    return { thinking, content };
  }

  /** End of output: what is still held back (a partial tag, leading whitespace) is released. */
  finish(): Split {
    const rest = this.acc;
    this.acc = "";
    if (this.state === "thinking") return { thinking: rest, content: "" };
    if (this.state === "looking") return { thinking: "", content: rest };
    return { thinking: "", content: this.state === "done" ? rest : "" };
  }

  private eat(): [string, string, boolean] {
    switch (this.state) {
      case "looking": {
        const trimmed = trimLeft(this.acc);
        if (trimmed.startsWith(this.open)) {
          const after = trimLeft(trimmed.slice(this.open.length));
          this.acc = after;
          this.state = after === "" ? "startedEating" : "thinking";
          return ["", "", true];
        }
        if (this.open.startsWith(trimmed)) return ["", "", false];
        // No opening tag: thinking was skipped; the text is content, untrimmed.
        this.state = "done";
        const all = this.acc;
        this.acc = "";
        return ["", all, false];
      }
      case "startedEating": {
        const trimmed = trimLeft(this.acc);
        this.acc = "";
        if (trimmed === "") return ["", "", false];
        this.state = "thinking";
        this.acc = trimmed;
        return ["", "", true];
      }
      case "thinking": {
        const acc = this.acc;
        const at = acc.indexOf(this.close);
        if (at >= 0) {
          const rest = trimLeft(acc.slice(at + this.close.length));
          this.acc = "";
          this.state = rest === "" ? "doneEating" : "done";
          return [acc.slice(0, at), rest, false];
        }
        const keep = overlap(acc, this.close);
        this.acc = acc.slice(acc.length - keep);
        return [acc.slice(0, acc.length - keep), "", false];
      }
      case "doneEating": {
        const trimmed = trimLeft(this.acc);
        this.acc = "";
        if (trimmed !== "") this.state = "done";
        return ["", trimmed, false];
      }
      case "done": {
        const all = this.acc;
        this.acc = "";
        return ["", all, false];
      }
    }
  }
}
