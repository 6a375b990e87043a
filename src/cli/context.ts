// What every client command starts from: the server address from OLLAMA_HOST (config.ts).
import { loadConfig } from "../config.js";
import { Client, hostUrl } from "./client.js";

export function cliClient(): Client {
  return new Client(hostUrl(loadConfig().host));
}
