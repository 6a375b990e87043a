// Modelfile parsing (spec §9.1) and its mapping onto a JSON /api/create request (§9.2).
// The parser is pure text -> commands, each remembering its line so errors can point at it; the
// mapping takes a resolver for FROM/ADAPTER/DRAFT paths, so this module never touches the disk.
import { isKnownOption, OPTION_TYPES } from "../api/options.js";

export type MessageRole = "system" | "user" | "assistant";

/** Instructions whose whole argument is one value. */
export type ValueInstruction = "from" | "adapter" | "draft" | "template" | "system" | "license" | "renderer" | "parser" | "requires";
export type Instruction = ValueInstruction | "parameter" | "message";

export type ModelfileCommand =
  | { instruction: ValueInstruction; value: string; line: number }
  | { instruction: "parameter"; name: string; value: string; line: number }
  | { instruction: "message"; role: MessageRole; value: string; line: number };

const INSTRUCTIONS: readonly Instruction[] = [
  "from", "license", "template", "system", "adapter", "draft", "renderer", "parser", "parameter", "message", "requires",
];

const INVALID_COMMAND =
  'command must be one of "from", "license", "template", "system", "adapter", "draft", "renderer", "parser", "parameter", "message", or "requires"';
const INVALID_ROLE = 'message role must be one of "system", "user", or "assistant"';

/** A Modelfile that cannot be used; `line` (1-based) when the fault has a place. */
export class ModelfileError extends Error {
  constructor(
    readonly reason: string,
    readonly line?: number,
  ) {
    super(line ? `(line ${line}): ${reason}` : reason);
    this.name = "ModelfileError";
  }
}

/** Modelfile bytes as text: UTF-8, or UTF-16 when a byte-order mark says so; the mark is dropped. */
export function decodeModelfile(bytes: Uint8Array): string {
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return new TextDecoder("utf-16le").decode(bytes.subarray(2));
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return new TextDecoder("utf-16be").decode(bytes.subarray(2));
  return new TextDecoder("utf-8", { ignoreBOM: false }).decode(bytes);
}

const isSpace = (ch: string) => ch === " " || ch === "\t";
const isAlpha = (ch: string) => /^[A-Za-z]$/.test(ch);
const isNameChar = (ch: string) => /^[A-Za-z0-9_]$/.test(ch);
// Go's strconv.IsPrint: Ollama's parser silently drops every other character from values.
const PRINTABLE = /^[\p{L}\p{M}\p{N}\p{P}\p{S} ]$/u;

/** `"""…"""` or `"…"` content verbatim, else the bare value; `ok` is false while a quote is open. */
function unquote(s: string): { value: string; ok: boolean } {
  if (s.startsWith('"""')) {
    return s.length >= 6 && s.endsWith('"""') ? { value: s.slice(3, -3), ok: true } : { value: "", ok: false };
  }
  if (s.startsWith('"')) {
    return s.length >= 2 && s.endsWith('"') ? { value: s.slice(1, -1), ok: true } : { value: "", ok: false };
  }
  return { value: s, ok: true };
}

function isRole(s: string): s is MessageRole {
  return s === "system" || s === "user" || s === "assistant";
}

/** Parses Modelfile text into its commands; a Modelfile needs at least one FROM. */
export function parseModelfile(input: string): ModelfileCommand[] {
  const text = (input.startsWith("\ufeff") ? input.slice(1) : input).replace(/\r\n?/g, "\n");
  const commands: ModelfileCommand[] = [];
  type State = "nil" | "name" | "parameter" | "message" | "value" | "comment";
  let state = "nil" as State;
  let buf = "";
  let line = 1;
  // The command being read: where it starts, its instruction and, for PARAMETER/MESSAGE, its key.
  let start = 1;
  let instruction: Instruction = "from";
  let key = "";

  const emit = (value: string) => {
    if (instruction === "parameter") commands.push({ instruction, name: key, value, line: start });
    else if (instruction === "message") commands.push({ instruction, role: key as MessageRole, value, line: start });
    else commands.push({ instruction, value, line: start });
  };

  const endName = (ch: string) => {
    const lower = buf.toLowerCase() as Instruction;
    const atEnd = ch === "\n" || ch === "";
    if (!INSTRUCTIONS.includes(lower) || !(isSpace(ch) || atEnd)) throw new ModelfileError(INVALID_COMMAND, start);
    if (atEnd) throw new ModelfileError(`missing value for ${buf.toUpperCase()}`, start);
    instruction = lower;
    state = lower === "parameter" ? "parameter" : lower === "message" ? "message" : "value";
    buf = "";
  };

  for (const ch of text) {
    switch (state) {
      case "nil":
        if (ch === "#") state = "comment";
        else if (!isSpace(ch) && ch !== "\n") {
          state = "name";
          start = line;
          buf = ch;
        }
        break;
      case "name":
        if (isAlpha(ch)) buf += ch;
        else endName(ch);
        break;
      case "parameter":
        if (isNameChar(ch)) buf += ch;
        else if (isSpace(ch) && buf === "") break;
        else if (isSpace(ch)) {
          key = buf;
          buf = "";
          state = "value";
        } else throw new ModelfileError(`invalid parameter name "${buf}${ch === "\n" ? "" : ch}"`, line);
        break;
      case "message":
        if (isAlpha(ch)) buf += ch;
        else if (isSpace(ch) && buf === "") break;
        else if (isSpace(ch) && isRole(buf)) {
          key = buf;
          buf = "";
          state = "value";
        } else throw new ModelfileError(INVALID_ROLE, line);
        break;
      case "value":
        if (ch === "\n") {
          const { value, ok } = unquote(buf.trim());
          if (ok) {
            emit(value);
            state = "nil";
            buf = "";
          } else buf += ch;
        } else if (isSpace(ch) || PRINTABLE.test(ch)) buf += ch;
        break;
      case "comment":
        if (ch === "\n") state = "nil";
        break;
    }
    if (ch === "\n") line++;
  }

  switch (state) {
    case "value": {
      const { value, ok } = unquote(buf.trim());
      if (!ok) throw new ModelfileError("unexpected EOF", start);
      emit(value);
      break;
    }
    case "name":
      endName("");
      break;
    case "parameter":
    case "message":
      throw new ModelfileError("unexpected EOF", start);
  }
  if (!commands.some((c) => c.instruction === "from")) throw new ModelfileError("no FROM line");
  return commands;
}

// ---- PARAMETER values ----------------------------------------------------------------------


/** Removed options: Ollama warns and skips them rather than failing the Modelfile. */
export const DEPRECATED_PARAMETERS: readonly string[] = [
  "penalize_newline", "low_vram", "f16_kv", "logits_all", "vocab_only", "use_mlock", "mirostat", "mirostat_tau", "mirostat_eta",
];

export type ParameterValue = number | boolean | string[];

const INT = /^[+-]?\d+$/;
const FLOAT = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const FLOAT32_MAX = 3.4028234663852886e38;

/** The shortest decimal that reads back as the same float32 (Go stores these options as float32). */
function float32Value(x: number): number {
  const f = Math.fround(x);
  if (f === 0) return 0;
  for (let p = 1; p <= 9; p++) {
    const candidate = Number(f.toPrecision(p));
    if (Math.fround(candidate) === f) return candidate;
  }
  return f;
}

/**
 * Types one parameter as Ollama does (Go's strconv rules for int, float32 and bool); `stop`
 * keeps every value. Throws Ollama's messages: `unknown parameter 'x'`, `invalid int value [v]`.
 */
export function parseParameter(name: string, values: string[]): ParameterValue {
  const type = isKnownOption(name) ? OPTION_TYPES[name] : undefined;
  if (!type) throw new Error(`unknown parameter '${name}'`);
  const v = values[0] ?? "";
  const shown = `[${values.join(" ")}]`;
  switch (type) {
    case "stringArray":
      return [...values];
    case "int": {
      if (!INT.test(v) || BigInt(v) < INT64_MIN || BigInt(v) > INT64_MAX) throw new Error(`invalid int value ${shown}`);
      return Number(v);
    }
    case "float": {
      const x = Number(v);
      if (!FLOAT.test(v) || Math.abs(x) > FLOAT32_MAX) throw new Error(`invalid float value ${shown}`);
      return float32Value(x);
    }
    case "bool":
      if (["1", "t", "T", "TRUE", "true", "True"].includes(v)) return true;
      if (["0", "f", "F", "FALSE", "false", "False"].includes(v)) return false;
      throw new Error(`invalid bool value ${shown}`);
  }
}

// ---- Commands -> /api/create request -------------------------------------------------------

/** The /api/create fields a Modelfile produces (the CLI adds `model` and `quantize`). */
export interface ModelfileRequest {
  from?: string;
  /** file name -> "sha256:<hex>" */
  files?: Record<string, string>;
  adapters?: Record<string, string>;
  draft_files?: Record<string, string>;
  template?: string;
  system?: string;
  license?: string[];
  parameters?: Record<string, ParameterValue>;
  messages?: { role: MessageRole; content: string }[];
  renderer?: string;
  parser?: string;
  requires?: string;
}

/**
 * Maps a path argument to the files it names (file name -> digest). For FROM it answers
 * undefined when nothing exists at the path: the argument is then a model name.
 */
export type PathResolver = (instruction: "from" | "adapter" | "draft", arg: string) => Promise<Record<string, string> | undefined>;

const SEMVER_PART = "(0|[1-9]\\d*)";
const PRERELEASE_ID = "(0|[1-9]\\d*|\\d*[A-Za-z-][0-9A-Za-z-]*)";
// golang.org/x/mod/semver: v1 and v1.2 are valid shorthands; pre-release and build need all three parts.
const SEMVER = new RegExp(
  `^v${SEMVER_PART}(\\.${SEMVER_PART}(\\.${SEMVER_PART}(-${PRERELEASE_ID}(\\.${PRERELEASE_ID})*)?(\\+[0-9A-Za-z-]+(\\.[0-9A-Za-z-]+)*)?)?)?$`,
);

export async function modelfileRequest(
  commands: ModelfileCommand[],
  resolve: PathResolver,
  warn: (message: string) => void = () => undefined,
): Promise<ModelfileRequest> {
  const req: ModelfileRequest = {};
  const licenses: string[] = [];
  const messages: { role: MessageRole; content: string }[] = [];
  const params: Record<string, ParameterValue> = {};
  for (const c of commands) {
    switch (c.instruction) {
      case "from": {
        const files = await resolve("from", c.value);
        if (files === undefined) req.from = c.value;
        else req.files = { ...req.files, ...files };
        break;
      }
      case "adapter":
        req.adapters = await resolve("adapter", c.value);
        break;
      case "draft":
        req.draft_files = { ...req.draft_files, ...(await resolve("draft", c.value)) };
        break;
      case "template":
      case "system":
      case "renderer":
      case "parser":
        req[c.instruction] = c.value;
        break;
      case "license":
        licenses.push(c.value);
        break;
      case "requires": {
        const v = c.value.startsWith("v") ? c.value : `v${c.value}`;
        if (!SEMVER.test(v)) throw new ModelfileError("requires must be a valid semver (e.g. 0.14.0)", c.line);
        req.requires = v.slice(1);
        break;
      }
      case "message":
        messages.push({ role: c.role, content: c.value });
        break;
      case "parameter": {
        if (DEPRECATED_PARAMETERS.includes(c.name)) {
          warn(`warning: parameter ${c.name} is deprecated`);
          break;
        }
        let value: ParameterValue;
        try {
          value = parseParameter(c.name, [c.value]);
        } catch (e) {
          throw new ModelfileError((e as Error).message, c.line);
        }
        const prev = params[c.name];
        params[c.name] = Array.isArray(prev) && Array.isArray(value) ? [...prev, ...value] : value;
        break;
      }
    }
  }
  if (Object.keys(params).length) req.parameters = params;
  if (messages.length) req.messages = messages;
  if (licenses.length) req.license = licenses;
  return req;
}
