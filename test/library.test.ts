// corral embedded in a Node program through the package's main entry.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig, startServer } from "corral";

test("startServer from the package entry serves the API on a port of its own", async () => {
  const models = await mkdtemp(join(tmpdir(), "corral-embed-"));
  const server = await startServer(loadConfig({ OLLAMA_HOST: "127.0.0.1:0", OLLAMA_MODELS: models }));
  try {
    assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    const res = await fetch(server.url);
    assert.equal(await res.text(), "Ollama is running");
    const tags = await (await fetch(`${server.url}/api/tags`)).json();
    assert.deepEqual(tags, { models: [] });
  } finally {
    await server.close();
    await rm(models, { recursive: true, force: true });
  }
});
