// The `corral` command tree. Every command except `serve` first checks that the server
// answers (HEAD /), so a stopped server is reported the same way everywhere.
import { Command } from "commander";
import { registerCp } from "./commands/cp.js";
import { registerCreate } from "./commands/create.js";
import { registerEngine } from "./commands/engine.js";
import { registerList } from "./commands/list.js";
import { registerPs } from "./commands/ps.js";
import { registerPull } from "./commands/pull.js";
import { registerPush } from "./commands/push.js";
import { registerRm } from "./commands/rm.js";
import { registerRun } from "./commands/run.js";
import { envHelp, registerServe } from "./commands/serve.js";
import { registerShow } from "./commands/show.js";
import { registerStop } from "./commands/stop.js";
import { printVersion } from "./commands/version.js";
import { cliClient } from "./context.js";

/** Commands that run here and need no server. */
const LOCAL_COMMANDS = new Set(["serve", "engine", "rpc-server"]);

const CLIENT_ENV = [["OLLAMA_HOST", "IP Address for the ollama server (default 127.0.0.1:11434)"]];

export function buildProgram(): Command {
  const program = new Command("corral")
    .description("Large language model runner")
    .option("-v, --version", "Show version information")
    .option("--verbose", "Show timings for response")
    .option("--nowordwrap", "Don't wrap words to the next line automatically")
    .configureOutput({ outputError: (text, write) => write(text.replace(/^error: /, "Error: ")) })
    .argument("[command]")
    .usage("[options] [command]")
    .helpCommand("help [command]", "Help about any command")
    // Root flags only before the subcommand, so `run --verbose` reaches `run`.
    .enablePositionalOptions()
    .exitOverride()
    .action(async (command: string | undefined, opts: { version?: boolean }) => {
      if (command) throw new Error(`unknown command "${command}" for "corral"`);
      if (opts.version) await printVersion();
      else program.outputHelp();
    });

  program.hook("preAction", async (_root, action) => {
    if (action !== program && !LOCAL_COMMANDS.has(action.name()) && !LOCAL_COMMANDS.has(action.parent?.name() ?? "")) {
      await cliClient().heartbeat();
    }
  });

  registerServe(program);
  registerCreate(program);
  registerShow(program);
  registerRun(program);
  registerStop(program);
  registerPull(program);
  registerPush(program);
  registerList(program);
  registerPs(program);
  registerCp(program);
  registerRm(program);
  registerEngine(program);
  for (const cmd of program.commands) if (!LOCAL_COMMANDS.has(cmd.name())) cmd.addHelpText("after", envHelp(CLIENT_ENV));
  return program;
}
