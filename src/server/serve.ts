// Starts corral: the model store, the scheduler and the HTTP server, and stops them on a signal.
import { loadConfig, physicalCores, type Config } from "../config.js";
import { Scheduler } from "../scheduler/scheduler.js";
import { ModelStore } from "../store/store.js";
import { DEFAULT_MAX_LOADED_MODELS } from "../config.js";
import { buildServer } from "./app.js";
import type { FastifyInstance } from "fastify";

export interface RunningServer {
  app: FastifyInstance;
  url: string;
  close(): Promise<void>;
}

export async function startServer(config: Config = loadConfig()): Promise<RunningServer> {
  const store = new ModelStore(config.models, { noPrune: config.noPrune });
  await store.init();
  const scheduler = new Scheduler({
    maxLoadedModels: config.maxLoadedModels || DEFAULT_MAX_LOADED_MODELS,
    maxQueue: config.maxQueue,
    keepAlive: config.keepAlive,
    debug: config.debug,
  });
  const app = await buildServer({ config, store, scheduler, threads: physicalCores() });
  await app.listen({ host: config.host.host, port: config.host.port });
  const addr = app.server.address();
  const port = typeof addr === "object" && addr ? addr.port : config.host.port;
  const host = config.host.host.includes(":") ? `[${config.host.host}]` : config.host.host;
  return {
    app,
    url: `http://${host}:${port}`,
    async close() {
      await app.close();
      await scheduler.shutdown();
    },
  };
}
