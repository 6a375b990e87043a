// Pull throughput: corral's /api/pull of a large blob from a local docker-registry, against a plain
// sequential HTTP download of the same blob to a file on the same disk, in one invocation. The two
// sides take turns run by run, so drift in machine load hits both alike; the ratio is the number.
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createWriteStream } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pipeline } from "node:stream/promises";
import { fileURLToPath } from "node:url";
import { seedModel, startRegistry, type TestRegistry } from "../test/support/registry.js";
import { freePort } from "../test/support/server.js";
import { intArg } from "./args.js";

const ROOT = resolve(fileURLToPath(import.meta.url), "../../.."); // dist/bench/x.js -> repo root
const MiB = 1 << 20;
const SIZE = intArg("--size", 512) * MiB;
const RUNS = intArg("--runs", 3);


const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const mbps = (bytes: number, ms: number) => bytes / 1e6 / (ms / 1000);

/** One GET of the whole blob, written sequentially to a file. */
async function plainDownload(url: string, file: string): Promise<number> {
  const t0 = performance.now();
  await new Promise<void>((res, rej) => {
    request(url, (r) => {
      if (r.statusCode !== 200) return rej(new Error(`GET ${url}: ${r.statusCode}`));
      pipeline(r, createWriteStream(file)).then(res, rej);
    }).on("error", rej).end();
  });
  const ms = performance.now() - t0;
  await rm(file);
  return ms;
}

async function startCorral(models: string): Promise<{ url: string; proc: ChildProcess }> {
  const port = await freePort();
  const proc = spawn(process.execPath, [join(ROOT, "dist/src/cli/main.js"), "serve"], {
    env: { ...process.env, OLLAMA_HOST: `127.0.0.1:${port}`, OLLAMA_MODELS: models },
    stdio: "ignore",
  });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 400; i++) {
    if (await fetch(url).then((r) => r.ok, () => false)) return { url, proc };
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error("corral did not start");
}

async function corralPull(url: string, model: string): Promise<number> {
  const t0 = performance.now();
  const res = await fetch(`${url}/api/pull`, { method: "POST", body: JSON.stringify({ model, insecure: true, stream: false }) });
  const body = await res.text();
  const ms = performance.now() - t0;
  if (res.status !== 200) throw new Error(`pull: ${res.status} ${body}`);
  const del = await fetch(`${url}/api/delete`, { method: "DELETE", body: JSON.stringify({ model }) });
  if (del.status !== 200) throw new Error(`delete: ${del.status}`);
  return ms;
}

async function main() {
  const work = await mkdtemp(join(tmpdir(), "corral-bench-pull-"));
  let registry: TestRegistry | undefined;
  let corral: { url: string; proc: ChildProcess } | undefined;
  try {
    registry = await startRegistry();
    const blob = randomBytes(SIZE);
    const { digests } = await seedModel(registry.url, "bench/big", "latest", [blob]);
    const blobUrl = `${registry.url}/v2/bench/big/blobs/${digests[0]}`;
    corral = await startCorral(join(work, "models"));
    const model = `${registry.host}/bench/big`;

    await plainDownload(blobUrl, join(work, "plain")); // warm-up: page cache on the registry side
    const plain: number[] = [];
    const pulls: number[] = [];
    // Each run starts with no dirty pages left by the other side, so neither pays for the other's writeback.
    const settle = () => execFileSync("sync");
    for (let i = 0; i < RUNS; i++) {
      settle();
      plain.push(await plainDownload(blobUrl, join(work, "plain")));
      settle();
      pulls.push(await corralPull(corral.url, model));
    }
    const fmt = (ms: number[]) => ms.map((m) => mbps(SIZE, m).toFixed(0)).join(", ");
    console.log("corral pull throughput");
    console.log(`  blob             ${(SIZE / MiB).toFixed(0)} MiB, one layer, docker-registry ${registry.host} (filesystem storage)`);
    console.log(`  plain download   median ${mbps(SIZE, median(plain)).toFixed(0)} MB/s, one sequential GET to a file (runs: ${fmt(plain)})`);
    console.log(`  corral pull      median ${mbps(SIZE, median(pulls)).toFixed(0)} MB/s, /api/pull: ranged parts, sha256 check, fsync, manifest (runs: ${fmt(pulls)})`);
    console.log(`  ratio            ${(median(plain) / median(pulls)).toFixed(3)} of medians (corral / plain)`);
  } finally {
    corral?.proc.kill("SIGTERM");
    await registry?.stop();
    await rm(work, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
