// GPU memory a process holds, as the NVIDIA driver reports it: how much of a model llama.cpp placed
// on the GPU (llama-server itself does not say).
import { execFile } from "node:child_process";

/** Bytes of GPU memory `pid` uses on NVIDIA GPUs; 0 when nvidia-smi is missing or lists nothing. */
export function nvidiaProcessMemory(pid: number): Promise<number> {
  return new Promise((resolve) => {
    execFile("nvidia-smi", ["--query-compute-apps=pid,used_memory", "--format=csv,noheader,nounits"], { timeout: 5000 }, (err, stdout) => {
      if (err) return resolve(0);
      let mib = 0;
      for (const line of stdout.split("\n")) {
        const [p, used] = line.split(",").map((s) => s.trim());
        if (Number(p) === pid) mib += Number(used) || 0;
      }
      resolve(mib * 2 ** 20);
    });
  });
}
