// Many concurrent loopback clients calling /api/generate in a loop for a while: what each request
// got (a status, a transport error, or no answer at all) and how long the answers took.

export interface LoadOptions {
  url: string;
  model: string;
  clients: number;
  durationMs: number;
  numPredict: number;
  /** A request with no answer after this long counts as hung (and is given up). */
  hungAfterMs: number;
}

export interface LoadResult {
  requests: number;
  /** Answers by HTTP status; transport failures under "error". */
  statuses: Record<string, number>;
  hung: number;
  wallMs: number;
  reqPerSec: number;
  p50Ms: number;
  p99Ms: number;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

export async function runLoad(o: LoadOptions): Promise<LoadResult> {
  const statuses: Record<string, number> = {};
  const latencies: number[] = [];
  let hung = 0;
  const start = performance.now();
  const end = start + o.durationMs;
  const body = JSON.stringify({
    model: o.model,
    prompt: "Once upon a time",
    stream: false,
    options: { num_predict: o.numPredict, temperature: 0 },
  });
  const client = async () => {
    while (performance.now() < end) {
      const t0 = performance.now();
      const signal = AbortSignal.timeout(o.hungAfterMs);
      let key: string;
      try {
        const res = await fetch(`${o.url}/api/generate`, { method: "POST", body, signal });
        await res.arrayBuffer();
        key = String(res.status);
      } catch (e) {
        if (signal.aborted) {
          hung++;
          continue;
        }
        key = `error: ${(e as Error).cause ?? (e as Error).message}`;
      }
      latencies.push(performance.now() - t0);
      statuses[key] = (statuses[key] ?? 0) + 1;
    }
  };
  await Promise.all(Array.from({ length: o.clients }, client));
  const wallMs = performance.now() - start;
  latencies.sort((a, b) => a - b);
  const requests = latencies.length + hung;
  return {
    requests,
    statuses,
    hung,
    wallMs,
    reqPerSec: (latencies.length * 1000) / wallMs,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
  };
}

/** Resident memory of a process in MiB (Linux /proc). */
export async function rssMiB(pid: number): Promise<number> {
  const { readFile } = await import("node:fs/promises");
  const m = /VmRSS:\s+(\d+) kB/.exec(await readFile(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) / 1024 : 0;
}
