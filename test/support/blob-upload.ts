// Uploads bytes built in the test as a blob of the test server (POST /api/blobs/:digest), and checks
// what refused input must leave behind: no model, no partial file, bounded memory, a live server.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import type { TestServer } from "./server.js";

export async function uploadBytes(url: string, data: Buffer): Promise<string> {
  const digest = `sha256:${createHash("sha256").update(data).digest("hex")}`;
  const res = await fetch(`${url}/api/blobs/${digest}`, { method: "POST", body: data });
  if (res.status !== 201 && res.status !== 200) throw new Error(`blob upload failed: ${res.status} ${await res.text()}`);
  return digest;
}

/** Peak resident memory of a process in MiB (Linux /proc), to bound what crafted input costs. */
export async function peakRssMiB(pid: number): Promise<number> {
  const m = /VmHWM:\s+(\d+) kB/.exec(await readFile(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) / 1024 : 0;
}

/** After refused creates: no manifest, no partial or temp blob, memory bounded, the server still answers. */
export async function assertNothingStored(srv: TestServer): Promise<void> {
  assert.deepEqual(await readdir(join(srv.models, "manifests")).catch(() => []), []);
  assert.ok(!(await readdir(join(srv.models, "blobs"))).some((f) => f.includes("partial") || f.startsWith(".")));
  // The sizes the crafted headers claim were never allocated.
  assert.ok((await peakRssMiB(srv.proc.pid!)) < 400, "bounded memory");
  assert.equal((await fetch(`${srv.url}/api/version`)).status, 200);
}
