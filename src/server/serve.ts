// Starts corral: the model store, the scheduler and the HTTP(S) server, and stops them on a signal.
import { loadConfig, physicalCores, type Config } from "../config.js";
import { Scheduler } from "../scheduler/scheduler.js";
import { ModelStore } from "../store/store.js";
import { DEFAULT_MAX_LOADED_MODELS } from "../config.js";
import { buildServer } from "./app.js";
import { Metrics } from "./observe/metrics.js";
import { ApiKeys } from "./auth/keys.js";
import { isLoopbackHost } from "./cors.js";
import { loadTls } from "./tls.js";
import type { FastifyInstance } from "fastify";

export interface RunningServer {
  app: FastifyInstance;
  url: string;
  /** Re-reads CORRAL_API_KEYS_FILE (the serve command calls it on SIGHUP). */
  reloadKeys(): void;
  close(): Promise<void>;
}

export async function startServer(config: Config = loadConfig()): Promise<RunningServer> {
  // Configuration mistakes fail before anything starts.
  const https = loadTls(config);
  const keys = new ApiKeys(config.apiKeys, config.apiKeysFile);
  const store = new ModelStore(config.models, { noPrune: config.noPrune });
  await store.init();
  const metrics = new Metrics();
  const scheduler = new Scheduler(
    {
      maxLoadedModels: config.maxLoadedModels || DEFAULT_MAX_LOADED_MODELS,
      maxQueue: config.maxQueue,
      keepAlive: config.keepAlive,
      debug: config.debug,
      loadTimeout: config.loadTimeout,
      memoryLimit: config.memoryLimit,
    },
    undefined,
    metrics.scheduler,
  );
  metrics.watch(scheduler);
  const app = await buildServer({ config, store, scheduler, metrics, threads: physicalCores() }, { keys, https });
  await app.listen({ host: config.host.host, port: config.host.port });
  const addr = app.server.address();
  const port = typeof addr === "object" && addr ? addr.port : config.host.port;
  const host = config.host.host.includes(":") ? `[${config.host.host}]` : config.host.host;
  if (!keys.enabled && !isLoopbackHost(config.host.host)) {
    process.stderr.write(
      `warning: listening on ${host}:${port} with no API key: anyone who can reach this address can use every model; set CORRAL_API_KEYS or CORRAL_API_KEYS_FILE\n`,
    );
  }
  return {
    app,
    url: `${https ? "https" : "http"}://${host}:${port}`,
    reloadKeys: () => keys.reload(),
    async close() {
      await app.close();
      await scheduler.shutdown();
    },
  };
}
