// The state of one `run`: the model, the conversation so far, and the settings `/set` changes.
import type { Message } from "../../api/inference.js";
import type { KeepAliveWire, Think } from "../client.js";

export interface RunSession {
  model: string;
  /** The model this one was created from (a `/save` derives from it). */
  parentModel: string;
  /** The MESSAGE history stored in the model. */
  loadedMessages: Message[];
  /** This session's messages, sent with every chat request. */
  messages: Message[];
  system: string;
  /** "" (none), "json", or a JSON schema's text. */
  format: string;
  options: Record<string, unknown>;
  keepAlive?: KeepAliveWire;
  think?: Think;
  /** Set by --think or /set (no)think: then the model's capabilities no longer decide. */
  thinkExplicit: boolean;
  hideThinking: boolean;
  wordWrap: boolean;
  verbose: boolean;
  /** Vision or audio model: file paths in the input are attached. */
  multiModal: boolean;
}

const THINK_VALUES = ["true", "false", "high", "medium", "low", "max"];

/** --think's value: bare --think is true. */
export function parseThink(value: string): Think {
  if (!THINK_VALUES.includes(value)) {
    throw new Error(`invalid value for --think: ${JSON.stringify(value)} (must be true, false, high, medium, low, or max)`);
  }
  return value === "true" ? true : value === "false" ? false : (value as Think);
}

/** Explicit choice wins; otherwise thinking is on for models that can think, unset for the rest. */
export function inferThink(session: RunSession, capabilities: string[] | undefined): Think | undefined {
  if (session.thinkExplicit) return session.think;
  return capabilities?.includes("thinking") ? true : undefined;
}

/** `format` on the wire: "json", a schema object, or absent. */
export function formatField(format: string): unknown {
  if (!format) return undefined;
  if (format === "json") return "json";
  try {
    return JSON.parse(format);
  } catch (e) {
    throw new Error(`invalid format ${JSON.stringify(format)}: ${(e as Error).message}`);
  }
}
