// `corral run MODEL [PROMPT...]`: pulls the model when missing; with a prompt (or piped stdin)
// one streamed generation, otherwise the interactive chat. Embedding models print a vector.
import { InvalidArgumentError, Option, type Command } from "commander";
import { text } from "node:stream/consumers";
import { type Client, type ShowInfo } from "../client.js";
import { cliClient } from "../context.js";
import { keepAliveFlag } from "../keepalive.js";
import { loadOrUnload } from "../load.js";
import { isTerminal, terminalWidth } from "../term.js";
import { printEmbedding } from "../run/embed.js";
import { generateOnce } from "../run/generate.js";
import { interactive } from "../run/repl.js";
import { inferThink, parseThink, type RunSession } from "../run/session.js";
import { WordWrapper } from "../run/wrap.js";
import { pullWithProgress } from "./pull.js";
import { ApiError } from "../../api/errors.js";

interface RunFlags {
  keepalive?: string;
  verbose?: boolean;
  insecure?: boolean;
  nowordwrap?: boolean;
  format?: string;
  think?: boolean;
  thinkValue?: string;
  hidethinking?: boolean;
  truncate?: boolean;
  dimensions?: number;
}

async function showOrPull(client: Client, model: string, insecure: boolean): Promise<ShowInfo> {
  try {
    return await client.show({ model });
  } catch (e) {
    if (!(e instanceof ApiError) || e.status !== 404) throw e;
  }
  await pullWithProgress(client, model, insecure);
  return client.show({ model });
}

function isMultiModal(info: ShowInfo): boolean {
  const caps = info.capabilities ?? [];
  return caps.includes("vision") || caps.includes("audio") || Boolean(info.projector_info) ||
    Object.keys(info.model_info ?? {}).some((k) => k.includes(".vision."));
}

/** The model's stored conversation, shown before the prompt as if it had just happened. */
function printStoredMessages(session: RunSession): void {
  for (const m of session.loadedMessages) {
    if (m.role === "user") process.stdout.write(`>>> ${m.content}\n`);
    if (m.role === "assistant") {
      const width = session.wordWrap ? terminalWidth(process.stdout) : undefined;
      new WordWrapper((s) => process.stdout.write(s), width).push(m.content);
      process.stdout.write("\n\n");
    }
  }
}

async function run(model: string, words: string[], flags: RunFlags): Promise<void> {
  const explicitThink = flags.thinkValue !== undefined || Boolean(flags.think);
  const session: RunSession = {
    model,
    parentModel: "",
    loadedMessages: [],
    messages: [],
    system: "",
    format: flags.format ?? "",
    options: {},
    keepAlive: keepAliveFlag(flags.keepalive),
    think: explicitThink ? parseThink(flags.thinkValue ?? "true") : undefined,
    thinkExplicit: explicitThink,
    hideThinking: Boolean(flags.hidethinking),
    wordWrap: !flags.nowordwrap,
    verbose: Boolean(flags.verbose),
    multiModal: false,
  };

  const parts = [...words];
  let isInteractive = true;
  if (!isTerminal(process.stdin)) {
    const piped = await text(process.stdin);
    if (piped) parts.unshift(piped);
    isInteractive = false;
  }
  const prompt = parts.join(" ");
  if (parts.length || !isTerminal(process.stdout)) isInteractive = false;

  const client = cliClient();
  const info = await showOrPull(client, model, Boolean(flags.insecure));
  session.think = inferThink(session, info.capabilities);
  session.multiModal = isMultiModal(info);
  session.parentModel = info.details?.parent_model ?? "";
  session.loadedMessages = info.messages ?? [];

  if (info.capabilities?.includes("embedding")) {
    if (!prompt) throw new Error(`embedding models require input text. Usage: corral run ${model} "your text here"`);
    return printEmbedding(client, {
      model,
      input: prompt,
      keep_alive: session.keepAlive,
      truncate: flags.truncate,
      dimensions: flags.dimensions || undefined,
    });
  }
  if (info.capabilities?.includes("image")) throw new Error("image generation models are not currently supported");

  if (!isInteractive) return generateOnce(client, session, prompt);
  await loadOrUnload(client, model, { keepAlive: session.keepAlive, think: session.think });
  printStoredMessages(session);
  await interactive(client, session);
}

function integer(value: string): number {
  if (!/^[+-]?\d+$/.test(value)) throw new InvalidArgumentError(`strconv.ParseInt: parsing ${JSON.stringify(value)}: invalid syntax`);
  return Number(value);
}

export function registerRun(program: Command): void {
  program
    .command("run")
    .description("Run a model")
    .argument("<MODEL>")
    .argument("[PROMPT...]")
    .option("--keepalive <duration>", "Duration to keep a model loaded (e.g. 5m)")
    .option("--verbose", "Show timings for response")
    .option("--insecure", "Use an insecure registry")
    .option("--nowordwrap", "Don't wrap words to the next line automatically")
    .option("--format <format>", "Response format (e.g. json)")
    .option("--think", "Enable thinking mode: --think or --think=true/false/high/medium/low/max for supported models")
    .addOption(new Option("--think-value <value>").hideHelp())
    .option("--hidethinking", "Hide thinking output (if provided)")
    .option("--truncate", "For embedding models: truncate inputs exceeding context length (default: true). Set --truncate=false to error instead")
    .addOption(new Option("--no-truncate").hideHelp())
    .option("--dimensions <n>", "Truncate output embeddings to specified dimension (embedding models only)", integer)
    .action(run);
}
