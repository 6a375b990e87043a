// Streaming GGUF (v2/v3, little-endian) header reader. Only the metadata and tensor infos are read:
// model files are tens of GB. Every length is checked against the bytes left before allocating.
import { open, type FileHandle } from "node:fs/promises";
import { GGML_TYPE_LAYOUT, GGUF_DEFAULT_ALIGNMENT, GGUF_MAGIC, GgmlType, GgufValueType } from "./types.js";

export type GgufScalar = number | bigint | string | boolean;

export interface GgufKv {
  type: GgufValueType;
  /** Arrays of arrays hold their inner arrays as GgufKv values (type ARRAY). */
  value: GgufScalar | GgufScalar[] | GgufKv[];
  arrayType?: GgufValueType;
}

export interface GgufTensorInfo {
  name: string;
  type: GgmlType;
  /** ne0 first, as stored */
  shape: number[];
  /** relative to the data section */
  offset: number;
}

export interface GgufFile {
  version: number;
  metadata: Map<string, GgufKv>;
  tensors: GgufTensorInfo[];
  alignment: number;
  dataOffset: number;
  fileSize: number;
}

export class GgufError extends Error {
  override name = "GgufError";
}

/** Bytes of tensor data, or undefined for a ggml type whose layout is unknown. */
export function tensorDataSize(t: GgufTensorInfo): number | undefined {
  const layout = GGML_TYPE_LAYOUT[t.type];
  if (!layout) return undefined;
  const n = t.shape.reduce((a, b) => a * b, 1);
  return Math.ceil(n / layout.blockSize) * layout.typeSize;
}

// Encoded size of fixed-size value types.
const FIXED_SIZE: Partial<Record<number, number>> = {
  [GgufValueType.UINT8]: 1, [GgufValueType.INT8]: 1, [GgufValueType.BOOL]: 1,
  [GgufValueType.UINT16]: 2, [GgufValueType.INT16]: 2,
  [GgufValueType.UINT32]: 4, [GgufValueType.INT32]: 4, [GgufValueType.FLOAT32]: 4,
  [GgufValueType.UINT64]: 8, [GgufValueType.INT64]: 8, [GgufValueType.FLOAT64]: 8,
};
// Minimum encoded size of a string (its length) and an array (element type + length).
const MIN_SIZE: Partial<Record<number, number>> = { ...FIXED_SIZE, [GgufValueType.STRING]: 8, [GgufValueType.ARRAY]: 12 };

const CHUNK = 1 << 20;
const MAX_DIMS = 4;
const MIN_SAFE = BigInt(Number.MIN_SAFE_INTEGER);
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/**
 * Buffered reader over a file handle. The `*Sync` methods assume the bytes are buffered (checked with
 * `avail`); the async ones refill first. Hot loops use the sync path: an await per value is too slow
 * for 100k-token vocabularies.
 */
class Reader {
  private buf = Buffer.alloc(0);
  private start = 0; // file offset of buf[0]
  private pos = 0; // index into buf
  private end = 0; // valid bytes in buf

  constructor(
    private readonly fh: FileHandle,
    readonly size: number,
  ) {}

  get offset(): number {
    return this.start + this.pos;
  }

  get remaining(): number {
    return this.size - this.offset;
  }

  get avail(): number {
    return this.end - this.pos;
  }

  /** Makes n bytes available at this.pos. */
  async need(n: number): Promise<void> {
    if (this.end - this.pos >= n) return;
    if (n > this.remaining)
      throw new GgufError(`truncated GGUF file: need ${n} bytes at offset ${this.offset}, file has ${this.size}`);
    const keep = this.end - this.pos;
    const want = Math.min(Math.max(n, CHUNK), this.remaining);
    const next = want <= this.buf.length ? this.buf : Buffer.allocUnsafe(want);
    this.buf.copy(next, 0, this.pos, this.end);
    this.start += this.pos;
    this.buf = next;
    this.pos = 0;
    this.end = keep;
    while (this.end < want) {
      const { bytesRead } = await this.fh.read(this.buf, this.end, want - this.end, this.start + this.end);
      if (bytesRead === 0) throw new GgufError(`truncated GGUF file: unexpected end at offset ${this.start + this.end}`);
      this.end += bytesRead;
    }
  }

  u32Sync(): number {
    const v = this.buf.readUInt32LE(this.pos);
    this.pos += 4;
    return v;
  }

  u64Sync(): number | bigint {
    const lo = this.buf.readUInt32LE(this.pos);
    const hi = this.buf.readUInt32LE(this.pos + 4);
    this.pos += 8;
    return hi < 0x200000 ? hi * 2 ** 32 + lo : (BigInt(hi) << 32n) | BigInt(lo);
  }

  /** A fixed-size value (FIXED_SIZE[type] bytes must be buffered). */
  scalarSync(type: GgufValueType): GgufScalar {
    const b = this.buf;
    const p = this.pos;
    switch (type) {
      case GgufValueType.UINT8: this.pos += 1; return b[p]!;
      case GgufValueType.INT8: this.pos += 1; return b.readInt8(p);
      case GgufValueType.BOOL: this.pos += 1; return b[p] !== 0;
      case GgufValueType.UINT16: this.pos += 2; return b.readUInt16LE(p);
      case GgufValueType.INT16: this.pos += 2; return b.readInt16LE(p);
      case GgufValueType.UINT32: this.pos += 4; return b.readUInt32LE(p);
      case GgufValueType.INT32: this.pos += 4; return b.readInt32LE(p);
      case GgufValueType.FLOAT32: this.pos += 4; return b.readFloatLE(p);
      case GgufValueType.FLOAT64: this.pos += 8; return b.readDoubleLE(p);
      case GgufValueType.UINT64: return this.u64Sync();
      case GgufValueType.INT64: {
        this.pos += 8;
        const v = b.readBigInt64LE(p);
        return v >= MIN_SAFE && v <= MAX_SAFE ? Number(v) : v;
      }
      default: throw new GgufError(`invalid GGUF file: unknown value type ${type} at offset ${this.offset}`);
    }
  }

  async u32(): Promise<number> {
    await this.need(4);
    return this.u32Sync();
  }

  async u64(): Promise<number | bigint> {
    await this.need(8);
    return this.u64Sync();
  }

  /** A u64 count or length that must fit the rest of the file at `minSize` bytes per item. */
  async count(what: string, minSize: number): Promise<number> {
    const at = this.offset;
    const n = await this.u64();
    if (typeof n === "bigint" || n * minSize > this.remaining)
      throw new GgufError(`invalid GGUF file: ${what} ${n} at offset ${at} exceeds the file size`);
    return n;
  }

  /** The next string if it is entirely buffered, else undefined (nothing consumed). */
  stringSync(): string | undefined {
    if (this.avail < 8) return undefined;
    const p = this.pos;
    const len = this.buf.readUInt32LE(p) + this.buf.readUInt32LE(p + 4) * 2 ** 32;
    if (len > this.avail - 8) return undefined;
    this.pos = p + 8 + len;
    return this.buf.toString("utf8", p + 8, p + 8 + len);
  }

  async string(): Promise<string> {
    const fast = this.stringSync();
    if (fast !== undefined) return fast;
    const len = await this.count("string length", 1);
    await this.need(len);
    const s = this.buf.toString("utf8", this.pos, this.pos + len);
    this.pos += len;
    return s;
  }
}

async function readValue(r: Reader, type: GgufValueType, key: string): Promise<GgufKv> {
  if (type === GgufValueType.STRING) return { type, value: await r.string() };
  if (type !== GgufValueType.ARRAY) {
    const size = FIXED_SIZE[type];
    if (size === undefined) throw new GgufError(`invalid GGUF file: key ${key} has unknown value type ${type}`);
    await r.need(size);
    return { type, value: r.scalarSync(type) };
  }
  const arrayType = (await r.u32()) as GgufValueType;
  const minSize = MIN_SIZE[arrayType];
  if (minSize === undefined) throw new GgufError(`invalid GGUF file: key ${key} has unknown array type ${arrayType}`);
  const n = await r.count(`array length of ${key}`, minSize);
  if (arrayType === GgufValueType.ARRAY) {
    const items: GgufKv[] = [];
    for (let i = 0; i < n; i++) items.push(await readValue(r, GgufValueType.ARRAY, key));
    return { type, arrayType, value: items };
  }
  const items: GgufScalar[] = new Array(n);
  const size = FIXED_SIZE[arrayType];
  for (let i = 0; i < n; ) {
    if (size === undefined) {
      items[i++] = r.stringSync() ?? (await r.string());
      continue;
    }
    if (r.avail < size) await r.need(size);
    const k = Math.min(n - i, Math.floor(r.avail / size));
    for (let j = 0; j < k; j++) items[i++] = r.scalarSync(arrayType);
  }
  return { type, arrayType, value: items };
}

/**
 * Every tensor's data must be of a known type, inside the file and apart from the others' (as
 * llama.cpp's loader demands): a crafted header must not make readers of the data alias or overrun.
 */
function checkTensorData(tensors: GgufTensorInfo[], dataOffset: number, size: number): void {
  const names = new Set<string>();
  const spans: { name: string; start: number; end: number }[] = [];
  for (const t of tensors) {
    if (names.has(t.name)) throw new GgufError(`invalid GGUF file: duplicate tensor ${t.name}`);
    names.add(t.name);
    const bytes = tensorDataSize(t);
    if (bytes === undefined) throw new GgufError(`invalid GGUF file: tensor ${t.name} has unknown type ${t.type}`);
    const start = dataOffset + t.offset;
    const end = start + bytes;
    if (!Number.isSafeInteger(end) || end > size)
      throw new GgufError(`invalid GGUF file: data of tensor ${t.name} extends past the end of the file`);
    // An empty tensor shares its offset with the next one in llama.cpp's layout.
    if (end > start) spans.push({ name: t.name, start, end });
  }
  spans.sort((a, b) => a.start - b.start);
  for (let i = 1; i < spans.length; i++) {
    if (spans[i]!.start < spans[i - 1]!.end)
      throw new GgufError(`invalid GGUF file: data of tensors ${spans[i - 1]!.name} and ${spans[i]!.name} overlap`);
  }
}

/** Reads the header of a GGUF file: metadata, tensor infos and where the tensor data starts. */
export async function readGguf(path: string): Promise<GgufFile> {
  const fh = await open(path, "r");
  try {
    const r = new Reader(fh, (await fh.stat()).size);
    if (r.size < 4 || (await r.u32()) !== GGUF_MAGIC) throw new GgufError(`${path}: not a GGUF file`);
    const version = await r.u32();
    if (version !== 2 && version !== 3) {
      const hint = version > 0xffff && (version & 0xffff) === 0 ? " (big-endian files are not supported)" : "";
      throw new GgufError(`${path}: unsupported GGUF version ${version}${hint}`);
    }
    const tensorCount = await r.count("tensor count", 24);
    const kvCount = await r.count("metadata count", 13);

    const metadata = new Map<string, GgufKv>();
    for (let i = 0; i < kvCount; i++) {
      const key = await r.string();
      const type = (await r.u32()) as GgufValueType;
      if (metadata.has(key)) throw new GgufError(`invalid GGUF file: duplicate key ${key}`);
      metadata.set(key, await readValue(r, type, key));
    }

    const tensors: GgufTensorInfo[] = [];
    for (let i = 0; i < tensorCount; i++) {
      const name = await r.string();
      const nDims = await r.u32();
      if (nDims < 1 || nDims > MAX_DIMS) throw new GgufError(`invalid GGUF file: tensor ${name} has ${nDims} dimensions`);
      const shape: number[] = [];
      for (let d = 0; d < nDims; d++) {
        const n = await r.u64();
        if (typeof n === "bigint") throw new GgufError(`invalid GGUF file: tensor ${name} dimension ${n} is too large`);
        shape.push(n);
      }
      const type = (await r.u32()) as GgmlType;
      const offset = await r.u64();
      if (typeof offset === "bigint") throw new GgufError(`invalid GGUF file: tensor ${name} offset ${offset} is too large`);
      tensors.push({ name, type, shape, offset });
    }

    const al = metadata.get("general.alignment");
    const alignment = al === undefined ? GGUF_DEFAULT_ALIGNMENT : Number(al.value);
    if (!Number.isInteger(alignment) || alignment <= 0 || (alignment & (alignment - 1)) !== 0)
      throw new GgufError(`invalid GGUF file: general.alignment ${String(al?.value)} is not a power of two`);
    const dataOffset = Math.ceil(r.offset / alignment) * alignment;

    checkTensorData(tensors, dataOffset, r.size);
    return { version, metadata, tensors, alignment, dataOffset, fileSize: r.size };
  } finally {
    await fh.close();
  }
}
