// Child process that runs llama.cpp's quantizer (see quantize.ts for why it is a separate process).
// Input: one JSON argument {input, output, ftype, nthread}. Output: NDJSON lines on stdout,
// {"tensor","index","count"} as each tensor starts, then {"done":true} or {"error":"..."}.
import { loadLlamaQuantLib } from "./llama-ffi.js";

export interface QuantizeJob {
  input: string;
  output: string;
  ftype: number;
  nthread: number;
}

export type QuantizeEvent =
  | { tensor: string; index: number; count: number }
  | { done: true }
  | { error: string };

const TENSOR_LINE = /^\[\s*(\d+)\/\s*(\d+)\]\s+(\S+)/;
const GGML_LOG_LEVEL_ERROR = 4;

function emit(e: QuantizeEvent): void {
  process.stdout.write(JSON.stringify(e) + "\n");
}

const parent = process.ppid;

/** A server killed mid-create would leave this process quantizing for nobody; it stops at the next tensor. */
function exitIfOrphaned(): void {
  try {
    process.kill(parent, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ESRCH") process.exit(1);
  }
}

function main(): void {
  const job = JSON.parse(process.argv[2] ?? "{}") as QuantizeJob;
  const lib = loadLlamaQuantLib();
  const errors: string[] = [];
  lib.onLog((level, text) => {
    exitIfOrphaned();
    const m = TENSOR_LINE.exec(text);
    if (m) emit({ tensor: m[3]!, index: Number(m[1]), count: Number(m[2]) });
    else if (level === GGML_LOG_LEVEL_ERROR) errors.push(text.trim());
  });
  const rc = lib.quantize(job.input, job.output, {
    ...lib.defaults,
    ftype: job.ftype,
    nthread: job.nthread,
    // Bounded slabs: the quantizer streams rows through buffers of at most this size.
    max_buf_size: 256 * 1024 * 1024,
  });
  if (rc === 0) return emit({ done: true });
  const reason = errors.map((e) => /failed to quantize: (.*)/.exec(e)?.[1]).find(Boolean) ?? errors.filter(Boolean).join("; ");
  emit({ error: reason || `llama_model_quantize returned ${rc}` });
}

try {
  main();
} catch (e) {
  emit({ error: (e as Error).message });
}
