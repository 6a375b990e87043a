// Safetensors files: an 8-byte little-endian header length, a JSON header naming each tensor's dtype,
// shape and [begin, end) byte range in the data section, then the data. The header is untrusted:
// every size and offset is checked against the dtype, the shape and the file before use.
import { open, readFile } from "node:fs/promises";

export class SafetensorsError extends Error {
  override name = "SafetensorsError";
}

export const DTYPE_SIZE: Record<string, number> = {
  F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, U16: 2, U32: 4, U64: 8, BOOL: 1,
  F8_E4M3: 1, F8_E5M2: 1,
};

/** Safetensors' own limit on the header: bigger ones are refused before allocation. */
const MAX_HEADER = 100 * 1024 * 1024;

export interface SafetensorsTensor {
  name: string;
  dtype: string;
  /** Row-major, outermost first (PyTorch order). */
  shape: number[];
  /** Absolute file offsets of the data. */
  start: number;
  end: number;
  /** File this tensor lives in. */
  path: string;
}

export interface SafetensorsFile {
  path: string;
  size: number;
  tensors: SafetensorsTensor[];
  metadata: Record<string, string>;
}

export const numel = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

export async function readSafetensorsHeader(path: string, label = path): Promise<SafetensorsFile> {
  const fh = await open(path, "r");
  try {
    const size = (await fh.stat()).size;
    const bad = (why: string) => new SafetensorsError(`invalid safetensors file ${label}: ${why}`);
    if (size < 8) throw bad("shorter than its 8-byte header length");
    const lenBuf = Buffer.alloc(8);
    await fh.read(lenBuf, 0, 8, 0);
    const len = lenBuf.readBigUInt64LE(0);
    if (len < 2n || len > BigInt(Math.min(MAX_HEADER, size - 8))) throw bad(`header length ${len} does not fit the file (${size} bytes)`);
    const n = Number(len);
    const headerBuf = Buffer.alloc(n);
    await fh.read(headerBuf, 0, n, 8);
    let header: unknown;
    try {
      header = JSON.parse(headerBuf.toString("utf8"));
    } catch (e) {
      throw bad(`header is not JSON (${(e as Error).message})`);
    }
    if (!header || typeof header !== "object" || Array.isArray(header)) throw bad("header is not a JSON object");
    const dataStart = 8 + n;
    const dataSize = size - dataStart;
    const tensors: SafetensorsTensor[] = [];
    let metadata: Record<string, string> = {};
    for (const [name, v] of Object.entries(header as Record<string, unknown>)) {
      if (name === "__metadata__") {
        if (v && typeof v === "object" && !Array.isArray(v)) metadata = v as Record<string, string>;
        continue;
      }
      const t = v as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
      if (!t || typeof t !== "object") throw bad(`tensor ${name}: entry is not an object`);
      const dtype = t.dtype;
      if (typeof dtype !== "string" || !(dtype in DTYPE_SIZE)) throw bad(`tensor ${name}: unknown dtype ${JSON.stringify(dtype)}`);
      const shape = t.shape;
      if (!Array.isArray(shape) || shape.some((d) => !Number.isSafeInteger(d) || d < 0)) throw bad(`tensor ${name}: invalid shape ${JSON.stringify(shape)}`);
      const offs = t.data_offsets;
      if (!Array.isArray(offs) || offs.length !== 2 || offs.some((o) => !Number.isSafeInteger(o) || o < 0) || offs[0] > offs[1])
        throw bad(`tensor ${name}: invalid data_offsets ${JSON.stringify(offs)}`);
      const [b, e] = offs as [number, number];
      const bytes = numel(shape as number[]) * DTYPE_SIZE[dtype]!;
      if (e - b !== bytes) throw bad(`tensor ${name}: data_offsets [${b}, ${e}] hold ${e - b} bytes, but ${dtype} ${JSON.stringify(shape)} needs ${bytes}`);
      if (e > dataSize) throw bad(`tensor ${name}: data_offsets end ${e} is past the end of the data (${dataSize} bytes)`);
      tensors.push({ name, dtype, shape: shape as number[], start: dataStart + b, end: dataStart + e, path });
    }
    const sorted = [...tensors].sort((a, b) => a.start - b.start);
    for (let i = 1; i < sorted.length; i++) {
      if (sorted[i]!.start < sorted[i - 1]!.end) throw bad(`tensors ${sorted[i - 1]!.name} and ${sorted[i]!.name} overlap`);
    }
    return { path, size, tensors, metadata };
  } finally {
    await fh.close();
  }
}

/** Reads [start, start+length) of a file in chunks of at most `chunk` bytes. */
export async function* readRange(path: string, start: number, length: number, chunk = 4 << 20): AsyncGenerator<Buffer> {
  const fh = await open(path, "r");
  try {
    for (let off = 0; off < length; ) {
      const n = Math.min(chunk, length - off);
      const buf = Buffer.allocUnsafe(n);
      const { bytesRead } = await fh.read(buf, 0, n, start + off);
      if (bytesRead !== n) throw new SafetensorsError(`${path}: unexpected end of file`);
      off += n;
      yield buf;
    }
  } finally {
    await fh.close();
  }
}

export async function readTensor(t: SafetensorsTensor): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const b of readRange(t.path, t.start, t.end - t.start, Number.MAX_SAFE_INTEGER)) parts.push(b);
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
}

/**
 * The tensors of a (possibly sharded) model. `files` maps relative names to paths; with a
 * `*.safetensors.index.json`, its weight_map must agree with the shards' own headers.
 */
export async function openSafetensorsModel(files: Map<string, string>, pick: (name: string) => boolean = (n) => n.endsWith(".safetensors")): Promise<Map<string, SafetensorsTensor>> {
  const shards = [...files.keys()].filter(pick).sort();
  if (shards.length === 0) throw new SafetensorsError("no safetensors files provided");
  const tensors = new Map<string, SafetensorsTensor>();
  const owner = new Map<string, string>();
  for (const name of shards) {
    const f = await readSafetensorsHeader(files.get(name)!, name);
    for (const t of f.tensors) {
      if (tensors.has(t.name)) throw new SafetensorsError(`tensor ${t.name} is in both ${owner.get(t.name)} and ${name}`);
      tensors.set(t.name, t);
      owner.set(t.name, name);
    }
  }
  const indexName = [...files.keys()].find((n) => n.endsWith(".safetensors.index.json"));
  if (indexName) {
    let index: { weight_map?: Record<string, string> };
    try {
      index = JSON.parse(await readFile(files.get(indexName)!, "utf8"));
    } catch (e) {
      throw new SafetensorsError(`${indexName}: ${(e as Error).message}`);
    }
    const base = (p: string) => p.split("/").pop()!;
    for (const [tensor, shard] of Object.entries(index.weight_map ?? {})) {
      const at = owner.get(tensor);
      if (!at) throw new SafetensorsError(`${indexName} lists tensor ${tensor} in ${shard}, but no shard holds it`);
      if (base(at) !== base(shard)) throw new SafetensorsError(`${indexName} lists tensor ${tensor} in ${shard}, but it is in ${at}`);
    }
  }
  return tensors;
}
