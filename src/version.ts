/** The Ollama API version corral reports on /api/version (clients gate features on it). */
export const VERSION = "0.13.0";
