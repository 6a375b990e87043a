// Entry point of a runner child process: serves the IPC protocol with one engine (one loaded model).
// A native crash here kills only this process; the server sees the exit and fails what was pending.
import { EngineError, type Engine } from "./drivers/engine.js";
import { RUNNER_PROTOCOL_VERSION, type LoadParams, type RunnerEvent, type RunnerRequest } from "./protocol.js";

const debug = process.argv.includes("--debug");
let engine: Engine | undefined;
let loading = false;
let unloading = false;
/** In-flight generations: their abort controllers and their completion (for a clean unload). */
const running = new Map<number, { ac: AbortController; done: Promise<unknown> }>();

if (!process.send) {
  process.stderr.write("corral runner: must be started by the server with an IPC channel\n");
  process.exit(2);
}

function send(ev: RunnerEvent, then?: () => void): void {
  if (!process.connected) return void then?.();
  process.send!(ev, undefined, {}, () => then?.());
}

function fail(id: number, e: unknown): void {
  const message = e instanceof Error ? e.message : String(e);
  send(e instanceof EngineError ? { ev: "error", id, message, status: e.status } : { ev: "error", id, message });
}

/** Each driver is imported only when chosen: a llama-server runner never maps node-llama-cpp. */
async function loadEngine(params: LoadParams): Promise<Engine> {
  if (params.driver === "llama-server") {
    const { LlamaServerEngine } = await import("./drivers/llama-server/engine.js");
    return LlamaServerEngine.load(params, () => {
      // The engine process died under us: this runner is finished, and the server sees it exit.
      process.exit(1);
    });
  }
  const { NodeLlamaCppEngine } = await import("./drivers/node-llama-cpp/engine.js");
  return NodeLlamaCppEngine.load(params, debug);
}

function need(): Engine {
  if (!engine) throw new EngineError(500, unloading ? "runner is unloading" : "no model loaded");
  return engine;
}

async function handle(req: RunnerRequest): Promise<void> {
  switch (req.op) {
    case "load": {
      if (engine || loading) throw new Error("a model is already loaded");
      if (req.version !== RUNNER_PROTOCOL_VERSION)
        throw new Error(`runner protocol version ${RUNNER_PROTOCOL_VERSION}, server sent ${req.version}`);
      loading = true;
      try {
        engine = await loadEngine(req.params);
      } catch (e) {
        // A runner that cannot load has nothing left to do: report, then go.
        const message = e instanceof Error ? e.message : String(e);
        send({ ev: "error", id: req.id, message }, () => process.exit(1));
        return;
      } finally {
        loading = false;
      }
      send({ ev: "result", id: req.id, value: engine.info });
      return;
    }
    case "generate": {
      const e = need();
      const ac = new AbortController();
      const done = e
        .generate(req.params, ac.signal, (text, logprobs) => send({ ev: "token", id: req.id, text, logprobs }))
        .then((stats) => send({ ev: "done", id: req.id, stats }))
        .catch((err) => fail(req.id, err))
        .finally(() => running.delete(req.id));
      running.set(req.id, { ac, done });
      return;
    }
    case "cancel":
      running.get(req.id)?.ac.abort();
      return;
    case "tokenize":
      send({ ev: "result", id: req.id, value: await need().tokenize(req.text) });
      return;
    case "detokenize":
      send({ ev: "result", id: req.id, value: await need().detokenize(req.tokens) });
      return;
    case "embed":
      send({ ev: "result", id: req.id, value: await need().embed(req.params) });
      return;
    case "rerank":
      send({ ev: "result", id: req.id, value: await need().rerank(req.params) });
      return;
    case "unload": {
      unloading = true;
      const e = engine;
      engine = undefined;
      // Aborted generations finish with their stats before the context goes away.
      for (const r of running.values()) r.ac.abort();
      await Promise.allSettled([...running.values()].map((r) => r.done));
      await e?.dispose();
      send({ ev: "result", id: req.id, value: null }, () => process.exit(0));
      return;
    }
  }
}

process.on("message", (msg: RunnerRequest) => {
  handle(msg).catch((e) => fail(msg.id, e));
});
// The server is gone (or closed the channel): nobody is left to serve.
process.on("disconnect", () => process.exit(0));
// However this process ends, an engine process of its own must not outlive it.
process.on("exit", () => engine?.killNow?.());
