// `corral --version`: the server's version, with warnings when no server answers or when the
// server and this client differ.
import { VERSION } from "../../version.js";
import { cliClient } from "../context.js";

export async function printVersion(): Promise<void> {
  let server = "";
  try {
    server = await cliClient().version();
  } catch {
    process.stdout.write("Warning: could not connect to a running Ollama instance\n");
  }
  if (server) process.stdout.write(`corral version is ${server}\n`);
  if (server !== VERSION) process.stdout.write(`Warning: client version is ${VERSION}\n`);
}
