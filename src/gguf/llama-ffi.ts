// llama.cpp's quantizer, reached through FFI (koffi) in the libllama that node-llama-cpp ships
// prebuilt. The struct below mirrors `llama_model_quantize_params` of the llama.h bundled with
// node-llama-cpp 3.21.1 (llama.cpp v0.4.0); it is ABI-coupled to that exact version, so the version
// is checked and the library's own defaults are compared with what this layout reads back.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import koffi from "koffi";

export const PINNED_NODE_LLAMA_CPP = "3.21.1";

/** GGML_TYPE_COUNT in the bundled ggml.h: "no override" for the tensor-type fields. */
const GGML_TYPE_COUNT = 43;
const DEFAULT_MAX_BUF = 8 * 1024 ** 3;

export interface QuantizeParams {
  nthread: number;
  ftype: number;
  output_tensor_type: number;
  token_embedding_type: number;
  allow_requantize: boolean;
  quantize_output_tensor: boolean;
  only_copy: boolean;
  pure: boolean;
  keep_split: boolean;
  dry_run: boolean;
  imatrix: null;
  kv_overrides: null;
  tt_overrides: null;
  prune_layers: null;
  max_buf_size: number;
}

export interface LlamaQuantLib {
  defaults: QuantizeParams;
  /** llama_model_quantize; 0 = success. Runs on the calling thread. */
  quantize(input: string, output: string, params: QuantizeParams): number;
  /** Routes llama.cpp's log lines to `fn` (instead of stderr). */
  onLog(fn: (level: number, text: string) => void): void;
  /** ggml_quantize_chunk over whole rows: the per-tensor reference the quantizer itself calls. */
  quantizeRows(type: number, src: Float32Array, nrows: number, nPerRow: number): Buffer;
}

/** The folder holding `name`'s package.json, found upward from a file the package resolves to. */
function packageRoot(entry: string, name: string): string {
  for (let dir = dirname(entry); dir !== dirname(dir); dir = dirname(dir)) {
    const pj = join(dir, "package.json");
    if (existsSync(pj) && JSON.parse(readFileSync(pj, "utf8")).name === name) return dir;
  }
  throw new Error(`package ${name} not found above ${entry}`);
}

/** Directory of the prebuilt llama.cpp binaries for this platform, from node-llama-cpp's package. */
export function llamaBinDir(): string {
  const root = packageRoot(fileURLToPath(import.meta.resolve("node-llama-cpp")), "node-llama-cpp");
  const version = JSON.parse(readFileSync(join(root, "package.json"), "utf8")).version as string;
  if (version !== PINNED_NODE_LLAMA_CPP)
    throw new Error(`quantization is built against node-llama-cpp ${PINNED_NODE_LLAMA_CPP}, found ${version}`);
  const platform = `${process.platform === "darwin" ? "mac" : process.platform}-${process.arch}`;
  const binPkg = `@node-llama-cpp/${platform}`;
  let binRoot: string;
  try {
    binRoot = packageRoot(createRequire(join(root, "package.json")).resolve(binPkg), binPkg);
  } catch {
    throw new Error(`quantization needs node-llama-cpp's prebuilt binaries for ${platform} (${binPkg})`);
  }
  const dir = join(binRoot, "bins", platform);
  if (!existsSync(dir)) throw new Error(`no prebuilt llama.cpp binaries in ${dir}`);
  return dir;
}

function findLib(dir: string, prefix: string): string {
  const f = readdirSync(dir).find((n) => n.startsWith(prefix) && /\.(so|dylib|dll)$/.test(n));
  if (!f) throw new Error(`${prefix}* not found in ${dir}`);
  return join(dir, f);
}

let cached: LlamaQuantLib | undefined;

export function loadLlamaQuantLib(): LlamaQuantLib {
  if (cached) return cached;
  const dir = llamaBinDir();
  // libggml-base first: libllama links it, and ggml_quantize_chunk lives there.
  const ggml = koffi.load(findLib(dir, "libggml-base"));
  const llama = koffi.load(findLib(dir, "libllama.v"));

  const Params = koffi.struct("llama_model_quantize_params", {
    nthread: "int32_t",
    ftype: "int",
    output_tensor_type: "int",
    token_embedding_type: "int",
    allow_requantize: "bool",
    quantize_output_tensor: "bool",
    only_copy: "bool",
    pure: "bool",
    keep_split: "bool",
    dry_run: "bool",
    imatrix: "void *",
    kv_overrides: "void *",
    tt_overrides: "void *",
    prune_layers: "void *",
    max_buf_size: "size_t",
  });
  const LogCallback = koffi.proto("void corral_ggml_log_cb(int level, const char *text, void *user_data)");

  llama.func("void llama_backend_init(void)")();
  const defaults = llama.func("llama_model_quantize_params llama_model_quantize_default_params(void)")() as QuantizeParams;
  const expected: Partial<QuantizeParams> = {
    nthread: 0, ftype: 7, output_tensor_type: GGML_TYPE_COUNT, token_embedding_type: GGML_TYPE_COUNT,
    allow_requantize: false, quantize_output_tensor: true, only_copy: false, pure: false, dry_run: false,
    max_buf_size: DEFAULT_MAX_BUF,
  };
  for (const [k, v] of Object.entries(expected)) {
    if ((defaults as unknown as Record<string, unknown>)[k] !== v)
      throw new Error(`libllama ABI mismatch: llama_model_quantize_params.${k} reads ${String((defaults as unknown as Record<string, unknown>)[k])}, expected ${String(v)}`);
  }

  const quantize = llama.func("uint32_t llama_model_quantize(const char *in, const char *out, const llama_model_quantize_params *params)");
  const logSet = llama.func("void llama_log_set(corral_ggml_log_cb *cb, void *user_data)");
  const rowSize = ggml.func("size_t ggml_row_size(int type, int64_t ne)");
  const chunk = ggml.func("size_t ggml_quantize_chunk(int type, const float *src, void *dst, int64_t start, int64_t nrows, int64_t n_per_row, const float *imatrix)");
  let registered: unknown;

  cached = {
    defaults,
    quantize: (input, output, params) => quantize(input, output, params) as number,
    onLog(fn) {
      if (registered !== undefined) koffi.unregister(registered as bigint);
      registered = koffi.register((level: number, text: string) => fn(level, text), koffi.pointer(LogCallback));
      logSet(registered, null);
    },
    quantizeRows(type, src, nrows, nPerRow) {
      const out = Buffer.alloc(Number(rowSize(type, nPerRow)) * nrows);
      const n = Number(chunk(type, src, out, 0, nrows, nPerRow, null));
      if (n !== out.length) throw new Error(`ggml_quantize_chunk wrote ${n} bytes, expected ${out.length}`);
      return out;
    },
  };
  return cached;
}
