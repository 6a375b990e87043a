// corral as a library: start the Ollama-compatible server inside a Node program, or render prompts.
export { startServer, type RunningServer } from "./server/serve.js";
export { loadConfig, type Config } from "./config.js";
export { renderPrompt, type RenderValues } from "./prompt/render.js";
export { TemplateError } from "./prompt/template.js";
