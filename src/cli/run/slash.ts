// The interactive slash commands: /set, /show, /load, /save, /clear, /list, /?, /bye.
import { parseParameter } from "../../create/modelfile.js";
import { parseModelName } from "../../store/name.js";
import type { Client } from "../client.js";
import { listModels } from "../commands/list.js";
import { goValue } from "../format.js";
import { loadOrUnload } from "../load.js";
import { showInfo } from "../show-info.js";
import { extractFileNames } from "./attachments.js";
import { USAGE_PARAMETERS, USAGE_SET, USAGE_SHORTCUTS, USAGE_SHOW, usage } from "./help.js";
import type { LineEditor } from "./line-editor.js";
import { inferThink, type RunSession } from "./session.js";

export interface Repl {
  client: Client;
  session: RunSession;
  editor: LineEditor;
}

/** What the loop does next: go on reading, quit, send the line as a prompt, or read a """ system block. */
export type SlashOutcome = { kind: "done" } | { kind: "exit" } | { kind: "prompt" } | { kind: "system-block"; text: string };

const DONE: SlashOutcome = { kind: "done" };
const out = (s: string) => process.stdout.write(s);
const err = (s: string) => process.stderr.write(s);

/** Sets the session's system prompt, replacing a system message at the end of the conversation. */
export function setSystem(session: RunSession, text: string): void {
  session.system = text;
  const message = { role: "system", content: text };
  const last = session.messages[session.messages.length - 1];
  if (last?.role === "system") session.messages[session.messages.length - 1] = message;
  else session.messages.push(message);
  out("Set system message.\n");
}

async function warnIfNoThinking(repl: Repl): Promise<void> {
  const info = await repl.client.show({ model: repl.session.model }).catch(() => undefined);
  if (info && !info.capabilities?.includes("thinking")) err(`warning: model "${repl.session.model}" does not support thinking output\n`);
}

async function set(repl: Repl, args: string[]): Promise<SlashOutcome> {
  const { session } = repl;
  switch (args[1]) {
    case undefined:
      err(USAGE_SET);
      return DONE;
    case "history":
      repl.editor.historyEnabled = true;
      return DONE;
    case "nohistory":
      repl.editor.historyEnabled = false;
      return DONE;
    case "wordwrap":
    case "nowordwrap":
      session.wordWrap = args[1] === "wordwrap";
      out(`Set '${args[1]}' mode.\n`);
      return DONE;
    case "verbose":
    case "quiet":
      session.verbose = args[1] === "verbose";
      out(`Set '${args[1]}' mode.\n`);
      return DONE;
    case "think":
    case "nothink": {
      const level = args[2];
      session.think = args[1] === "nothink" ? false : ((level ?? true) as RunSession["think"]);
      session.thinkExplicit = true;
      await warnIfNoThinking(repl);
      out(args[1] === "nothink" ? "Set 'nothink' mode.\n" : level ? `Set 'think' mode to '${level}'.\n` : "Set 'think' mode.\n");
      return DONE;
    }
    case "format":
      if (args[2] !== "json") out("Invalid or missing format. For 'json' mode use '/set format json'\n");
      else {
        session.format = "json";
        out("Set format to 'json' mode.\n");
      }
      return DONE;
    case "noformat":
      session.format = "";
      out("Disabled format.\n");
      return DONE;
    case "parameter": {
      if (args.length < 4) {
        err(USAGE_PARAMETERS);
        return DONE;
      }
      const [name, ...values] = args.slice(2) as [string, ...string[]];
      try {
        session.options[name] = parseParameter(name, values);
      } catch (e) {
        out(`Couldn't set parameter: ${JSON.stringify((e as Error).message)}\n`);
        return DONE;
      }
      out(`Set parameter '${name}' to '${values.join(", ")}'\n`);
      return DONE;
    }
    case "system": {
      if (args.length < 3) {
        err(USAGE_SET);
        return DONE;
      }
      let text = args.slice(2).join(" ");
      if (text.startsWith('"""')) {
        text = text.slice(3);
        if (!text.endsWith('"""')) return { kind: "system-block", text };
        text = text.slice(0, -3);
      }
      setSystem(session, text);
      return DONE;
    }
    default:
      out(`Unknown command '/set ${args[1]}'. Type /? for help\n`);
      return DONE;
  }
}

async function show(repl: Repl, args: string[]): Promise<SlashOutcome> {
  const { session } = repl;
  if (args.length < 2) {
    err(USAGE_SHOW);
    return DONE;
  }
  let resp;
  try {
    resp = await repl.client.show({ model: session.model, system: session.system || undefined, options: session.options });
  } catch (e) {
    out("error: couldn't get model\n");
    throw e;
  }
  switch (args[1]) {
    case "info":
      err(showInfo(resp, false));
      break;
    case "license":
      out(resp.license ? `${resp.license}\n` : "No license was specified for this model.\n");
      break;
    case "modelfile":
      out(`${resp.modelfile ?? ""}\n`);
      break;
    case "parameters": {
      out("Model defined parameters:\n");
      if (!resp.parameters) out("  No additional parameters were specified for this model.\n");
      else for (const l of resp.parameters.split("\n")) out(`  ${l}\n`);
      out("\n");
      const user = Object.entries(session.options);
      if (user.length) {
        out("User defined parameters:\n");
        for (const [k, v] of user) out(`  ${k.padEnd(30)} ${goValue(v)}\n`);
        out("\n");
      }
      break;
    }
    case "system":
      if (session.system) out(`${session.system}\n\n`);
      else if (resp.system) out(`${resp.system}\n\n`);
      else out("No system message was specified for this model.\n");
      break;
    case "template":
      out(resp.template ? `${resp.template}\n` : "No prompt template was specified for this model.\n");
      break;
    default:
      out(`Unknown command '/show ${args[1]}'. Type /? for help\n`);
  }
  return DONE;
}

async function load(repl: Repl, args: string[]): Promise<SlashOutcome> {
  if (args.length !== 2) {
    out("Usage:\n  /load <modelname>\n");
    return DONE;
  }
  const { session } = repl;
  const saved = structuredClone(session);
  const model = args[1]!;
  out(`Loading model '${model}'\n`);
  const restore = () => Object.assign(session, saved);
  try {
    const info = await repl.client.show({ model });
    Object.assign(session, { model, messages: [], loadedMessages: info.messages ?? [], parentModel: info.details.parent_model });
    session.think = inferThink(session, info.capabilities);
    await loadOrUnload(repl.client, model, { keepAlive: session.keepAlive, think: session.think });
  } catch (e) {
    const message = (e as Error).message;
    if (message.includes("not found")) {
      out(`Couldn't find model '${model}'\n`);
      restore();
    } else if (message.includes("does not support thinking")) {
      out(`error: ${message}\n`);
    } else throw e;
  }
  return DONE;
}

async function save(repl: Repl, args: string[]): Promise<SlashOutcome> {
  if (args.length !== 2) {
    out("Usage:\n  /save <modelname>\n");
    return DONE;
  }
  const { session } = repl;
  const name = args[1]!;
  const parent = session.parentModel && parseModelName(session.parentModel) ? session.parentModel : "";
  const messages = [...session.loadedMessages, ...session.messages];
  const req = {
    model: name,
    from: parent || session.model,
    system: session.system || undefined,
    parameters: Object.keys(session.options).length ? session.options : undefined,
    messages: messages.length ? messages : undefined,
  };
  try {
    await repl.client.create(req, () => undefined);
  } catch (e) {
    if ((e as Error).message.includes("invalid model name")) {
      out(`error: The model name '${name}' is invalid\n`);
      return DONE;
    }
    throw e;
  }
  out(`Created new model '${name}'\n`);
  return DONE;
}

function help(repl: Repl, args: string[]): SlashOutcome {
  const topic = args[1];
  if (topic === undefined) err(usage(repl.session.multiModal));
  else if (topic === "set" || topic === "/set") err(USAGE_SET);
  else if (topic === "show" || topic === "/show") err(USAGE_SHOW);
  else if (topic === "shortcut" || topic === "shortcuts") err(USAGE_SHORTCUTS);
  return DONE;
}

/** Runs a line that starts with "/". Matching is by prefix, as Ollama's. */
export async function slashCommand(repl: Repl, line: string): Promise<SlashOutcome> {
  const args = line.trim().split(/\s+/);
  if (line.startsWith("/list")) {
    await listModels(args[1]);
    return DONE;
  }
  if (line.startsWith("/load")) return load(repl, args);
  if (line.startsWith("/save")) return save(repl, args);
  if (line.startsWith("/clear")) {
    const { session } = repl;
    session.messages = session.system ? [{ role: "system", content: session.system }] : [];
    out("Cleared session context\n");
    return DONE;
  }
  if (line.startsWith("/set")) return set(repl, args);
  if (line.startsWith("/show")) return show(repl, args);
  if (line.startsWith("/help") || line.startsWith("/?")) return help(repl, args);
  if (line.startsWith("/exit") || line.startsWith("/bye")) return { kind: "exit" };
  // A path to an image is a prompt, not a command.
  if (repl.session.multiModal && extractFileNames(line).some((f) => f.startsWith(args[0]!))) return { kind: "prompt" };
  out(`Unknown command '${args[0]}'. Type /? for help\n`);
  return DONE;
}

