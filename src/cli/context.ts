// What every client command starts from: the server address from OLLAMA_HOST, the API key and the
// extra CA to trust for HTTPS (all from config.ts).
import { readFileSync } from "node:fs";
import { loadConfig } from "../config.js";
import { Client, hostUrl } from "./client.js";
import { fetchTrustingCa } from "./transport.js";

export function cliClient(): Client {
  const config = loadConfig();
  return new Client(hostUrl(config.host), {
    apiKey: config.clientApiKey,
    fetch: config.tlsCa ? fetchTrustingCa(readCa(config.tlsCa)) : undefined,
  });
}

function readCa(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (e) {
    throw new Error(`cannot read CORRAL_TLS_CA ${JSON.stringify(path)}: ${(e as Error).message}`);
  }
}
