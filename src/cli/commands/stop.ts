// `corral stop MODEL`: unloads a running model (an empty generate with keep_alive 0).
import type { Command } from "commander";
import { cliClient } from "../context.js";
import { loadOrUnload } from "../load.js";

async function stop(model: string): Promise<void> {
  try {
    await loadOrUnload(cliClient(), model, { keepAlive: "0s" });
  } catch (e) {
    if ((e as Error).message.includes("not found")) throw new Error(`couldn't find model "${model}" to stop`);
    throw e;
  }
}

export function registerStop(program: Command): void {
  program.command("stop").description("Stop a running model").argument("<MODEL>").action(stop);
}
