// The output side of a request: streamed text split into content, thinking and tool calls.
import type { ToolCall } from "../api/inference.js";
import { ThinkingParser } from "./thinking.js";
import { ToolCallParser } from "./tools.js";

export interface OutputDelta {
  content: string;
  thinking: string;
  calls: ToolCall[];
}

export interface OutputOptions {
  /** Thinking tags, when thinking is on and the tags are known. */
  thinking?: { open: string; close: string; /** the prompt already opened the block */ prefilled: boolean };
  /** The tool-call tag and the request's tool names, when the request has tools. */
  tools?: { tag: string; names: string[] };
}

export class OutputParser {
  private readonly thinking?: ThinkingParser;
  private readonly tools?: ToolCallParser;

  constructor(opts: OutputOptions) {
    if (opts.thinking) {
      this.thinking = new ThinkingParser(opts.thinking.open, opts.thinking.close);
      if (opts.thinking.prefilled) this.thinking.prefill();
    }
    if (opts.tools) this.tools = new ToolCallParser(opts.tools.tag, opts.tools.names);
  }

  push(text: string): OutputDelta {
    const split = this.thinking ? this.thinking.add(text) : { thinking: "", content: text };
    if (!this.tools) return { ...split, calls: [] };
    const r = this.tools.add(split.content);
    return { thinking: split.thinking, content: r.content, calls: r.calls };
  }

  finish(): OutputDelta {
    const split = this.thinking ? this.thinking.finish() : { thinking: "", content: "" };
    if (!this.tools) return { ...split, calls: [] };
    const r = this.tools.add(split.content);
    return { thinking: split.thinking, content: r.content + this.tools.finish(), calls: r.calls };
  }
}

export const isEmpty = (d: OutputDelta) => d.content === "" && d.thinking === "" && d.calls.length === 0;
