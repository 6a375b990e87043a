// Uploads bytes built in the test as a blob of the test server (POST /api/blobs/:digest).
import { createHash } from "node:crypto";

export async function uploadBytes(url: string, data: Buffer): Promise<string> {
  const digest = `sha256:${createHash("sha256").update(data).digest("hex")}`;
  const res = await fetch(`${url}/api/blobs/${digest}`, { method: "POST", body: data });
  if (res.status !== 201 && res.status !== 200) throw new Error(`blob upload failed: ${res.status} ${await res.text()}`);
  return digest;
}

/** Peak resident memory of a process in MiB (Linux /proc), to bound what crafted input costs. */
export async function peakRssMiB(pid: number): Promise<number> {
  const { readFile } = await import("node:fs/promises");
  const m = /VmHWM:\s+(\d+) kB/.exec(await readFile(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) / 1024 : 0;
}
