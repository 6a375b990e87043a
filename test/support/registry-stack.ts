// The fixture of the pull/push tests: a docker-registry, a counting proxy in front of it and a corral
// server, started once for a test file and stopped in the reverse order.
import { startProxy, startRegistry, type CountingProxy, type TestRegistry } from "./registry.js";
import { startTestServer, type TestServer } from "./server.js";

export interface RegistryStack {
  registry: TestRegistry;
  proxy: CountingProxy;
  srv: TestServer;
}

export async function startRegistryStack(): Promise<RegistryStack> {
  const registry = await startRegistry();
  const proxy = await startProxy(registry.url);
  const srv = await startTestServer();
  return { registry, proxy, srv };
}

/** Stops what was started; a part that never started (a failed `before`) is skipped. */
export async function stopRegistryStack(s: Partial<RegistryStack>): Promise<void> {
  await s.srv?.stop();
  await s.proxy?.close();
  await s.registry?.stop();
}
