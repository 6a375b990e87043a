// Quantizing a float GGUF with llama.cpp's own quantizer, so the tensors are byte-identical to what
// llama.cpp produces. The native call runs in a child process: it blocks for the whole model, and a
// failed assertion in native code aborts its process, which must not be the server.
import { spawn } from "node:child_process";
import { physicalCores } from "../config.js";
import { fileURLToPath } from "node:url";
import { GgmlType } from "./types.js";
import { tensorDataSize, type GgufFile } from "./reader.js";
import { fileTypeName } from "./info.js";
import type { QuantizeEvent, QuantizeJob } from "./quantize-child.js";

export class QuantizeError extends Error {
  override name = "QuantizeError";
}

/** Target names (case-insensitive) → llama.cpp's LLAMA_FTYPE. */
const FTYPES: Record<string, number> = {
  F32: 0, F16: 1, BF16: 32,
  Q4_0: 2, Q4_1: 3, Q5_0: 8, Q5_1: 9, Q8_0: 7,
  Q2_K: 10, Q3_K_S: 11, Q3_K_M: 12, Q3_K_L: 13,
  Q4_K_S: 14, Q4_K_M: 15, Q5_K_S: 16, Q5_K_M: 17, Q6_K: 18,
};
export const QUANTIZE_TYPES = Object.keys(FTYPES);

/** The canonical name and LLAMA_FTYPE of a requested type, e.g. "q4_k_m" → {Q4_K_M, 15}. */
export function parseQuantizeType(requested: string): { name: string; ftype: number } {
  const name = requested.toUpperCase();
  const ftype = FTYPES[name];
  if (ftype === undefined)
    throw new QuantizeError(`unsupported quantization type ${requested} - supported types are ${QUANTIZE_TYPES.join(", ")}`);
  return { name, ftype };
}

const FLOAT_TYPES = new Set([GgmlType.F32, GgmlType.F16, GgmlType.BF16]);

/** Only float models are quantized: requantizing loses precision twice (Ollama refuses it too). */
export function checkQuantizable(f: GgufFile): string {
  const from = fileTypeName(f);
  if (!["F32", "F16", "BF16"].includes(from) || f.tensors.some((t) => !FLOAT_TYPES.has(t.type)))
    throw new QuantizeError("quantization is only supported for F16, BF16 and F32 models");
  return from;
}

export interface QuantizeOptions {
  threads?: number;
  signal?: AbortSignal;
  /** Bytes of input tensors processed so far, of `total`. */
  onProgress?: (completed: number, total: number) => void;
}

const CHILD = fileURLToPath(new URL("./quantize-child.js", import.meta.url));

/**
 * Quantizes `input` (a float GGUF whose header is `header`) to `output`. The caller owns `output`:
 * on failure it may hold a partial file.
 */
export async function quantizeGguf(input: string, header: GgufFile, output: string, type: string, opts: QuantizeOptions = {}): Promise<void> {
  const { ftype } = parseQuantizeType(type);
  checkQuantizable(header);
  const sizes = new Map(header.tensors.map((t) => [t.name, tensorDataSize(t) ?? 0]));
  const total = [...sizes.values()].reduce((a, b) => a + b, 0);
  const job: QuantizeJob = { input, output, ftype, nthread: Math.max(1, opts.threads ?? physicalCores()) };

  const child = spawn(process.execPath, [CHILD, JSON.stringify(job)], { stdio: ["ignore", "pipe", "pipe"] });
  const onAbort = () => child.kill("SIGKILL");
  opts.signal?.addEventListener("abort", onAbort, { once: true });
  let result: QuantizeEvent | undefined;
  let stderr = "";
  let completed = 0;
  let current: string | undefined;
  let pending = "";
  child.stderr!.on("data", (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  child.stdout!.on("data", (d: Buffer) => {
    pending += d.toString();
    for (let nl = pending.indexOf("\n"); nl >= 0; nl = pending.indexOf("\n")) {
      const line = pending.slice(0, nl);
      pending = pending.slice(nl + 1);
      let ev: QuantizeEvent;
      try {
        ev = JSON.parse(line) as QuantizeEvent;
      } catch {
        continue;
      }
      if ("tensor" in ev) {
        if (current !== undefined) completed += sizes.get(current) ?? 0;
        current = ev.tensor;
        opts.onProgress?.(completed, total);
      } else result = ev;
    }
  });
  const code = await new Promise<number | null>((res, rej) => {
    child.once("error", rej);
    child.once("close", (c) => res(c));
  }).finally(() => opts.signal?.removeEventListener("abort", onAbort));

  if (opts.signal?.aborted) throw opts.signal.reason ?? new Error("quantization canceled");
  if (result && "error" in result) throw new QuantizeError(`quantization failed: ${result.error}`);
  if (!result || code !== 0) throw new Error(`quantizer exited with ${code}: ${stderr.trim().split("\n").slice(-3).join(" ")}`);
  opts.onProgress?.(total, total);
}
