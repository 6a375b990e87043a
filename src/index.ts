// corral as a library: start the Ollama-compatible server inside a Node program.
export { startServer, type RunningServer } from "./server/serve.js";
export { loadConfig, type Config } from "./config.js";
