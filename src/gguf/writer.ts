// Streaming GGUF v3 writer: the header is built in memory, tensor data is streamed to disk.

import { open, rename, unlink } from "node:fs/promises";
import { dirname, basename, join } from "node:path";
import { randomBytes } from "node:crypto";
import { GGUF_MAGIC, GGUF_DEFAULT_ALIGNMENT, GGML_TYPE_LAYOUT, GgmlType, GgufValueType } from "./types.js";

type Scalar = number | bigint | boolean | string;

/**
 * A metadata value with its GGUF type spelled out (a JS number does not say u32 vs f32).
 * For ARRAY, `arrayType` gives the element type; elements may be a JS array or a typed array.
 * Arrays of arrays use `arrayType: ARRAY` with GgufWriteValue elements.
 */
export interface GgufWriteValue {
  type: GgufValueType;
  value: Scalar | ArrayLike<Scalar | GgufWriteValue>;
  arrayType?: GgufValueType;
}

export type TensorData = Buffer | (() => AsyncIterable<Buffer> | Iterable<Buffer>);

export interface GgufWriteTensor {
  name: string;
  type: GgmlType;
  /** ne0 (the contiguous dimension) first, as in ggml. */
  shape: number[];
  data: TensorData;
}

/** Bytes a tensor of this type and shape occupies; throws if the type is unknown or ne0 is not whole blocks. */
export function tensorByteLength(name: string, type: GgmlType, shape: number[]): number {
  const layout = GGML_TYPE_LAYOUT[type];
  if (!layout) throw new Error(`tensor ${name}: unsupported ggml type ${GgmlType[type] ?? type}`);
  if (shape.length < 1 || shape.length > 4 || shape.some((d) => !Number.isSafeInteger(d) || d < 1))
    throw new Error(`tensor ${name}: invalid shape [${shape.join(", ")}]`);
  if (shape[0] % layout.blockSize !== 0)
    throw new Error(`tensor ${name}: ne0=${shape[0]} is not a multiple of the ${GgmlType[type]} block size ${layout.blockSize}`);
  const n = shape.reduce((a, b) => a * b, 1);
  return (n / layout.blockSize) * layout.typeSize;
}

/** Growable little-endian byte builder for the header. room() may replace buf, so take the offset first. */
class Bytes {
  private buf = Buffer.alloc(1 << 16);
  length = 0;
  private room(n: number): number {
    if (this.length + n > this.buf.length) {
      const next = Buffer.alloc(Math.max(this.buf.length * 2, this.length + n));
      this.buf.copy(next, 0, 0, this.length);
      this.buf = next;
    }
    const at = this.length;
    this.length += n;
    return at;
  }
  u8(v: number) { const at = this.room(1); this.buf.writeUInt8(v, at); }
  i8(v: number) { const at = this.room(1); this.buf.writeInt8(v, at); }
  u16(v: number) { const at = this.room(2); this.buf.writeUInt16LE(v, at); }
  i16(v: number) { const at = this.room(2); this.buf.writeInt16LE(v, at); }
  u32(v: number) { const at = this.room(4); this.buf.writeUInt32LE(v, at); }
  i32(v: number) { const at = this.room(4); this.buf.writeInt32LE(v, at); }
  f32(v: number) { const at = this.room(4); this.buf.writeFloatLE(v, at); }
  f64(v: number) { const at = this.room(8); this.buf.writeDoubleLE(v, at); }
  u64(v: number | bigint) { const at = this.room(8); this.buf.writeBigUInt64LE(BigInt(v), at); }
  i64(v: number | bigint) { const at = this.room(8); this.buf.writeBigInt64LE(BigInt(v), at); }
  str(s: string) {
    const n = Buffer.byteLength(s, "utf8");
    this.u64(n);
    const at = this.room(n);
    this.buf.write(s, at, n, "utf8");
  }
  pad(alignment: number) { this.room((alignment - (this.length % alignment)) % alignment); }
  bytes(): Buffer { return this.buf.subarray(0, this.length); }
}

function num(key: string, v: unknown): number {
  if (typeof v === "number") return v;
  if (typeof v === "bigint") return Number(v);
  if (typeof v === "boolean") return v ? 1 : 0;
  throw new Error(`metadata ${key}: expected a number, got ${typeof v}`);
}

function writeScalar(b: Bytes, key: string, type: GgufValueType, v: unknown): void {
  switch (type) {
    case GgufValueType.UINT8: return b.u8(num(key, v));
    case GgufValueType.INT8: return b.i8(num(key, v));
    case GgufValueType.UINT16: return b.u16(num(key, v));
    case GgufValueType.INT16: return b.i16(num(key, v));
    case GgufValueType.UINT32: return b.u32(num(key, v));
    case GgufValueType.INT32: return b.i32(num(key, v));
    case GgufValueType.FLOAT32: return b.f32(num(key, v));
    case GgufValueType.FLOAT64: return b.f64(num(key, v));
    case GgufValueType.UINT64: return b.u64(typeof v === "bigint" ? v : num(key, v));
    case GgufValueType.INT64: return b.i64(typeof v === "bigint" ? v : num(key, v));
    case GgufValueType.BOOL:
      if (typeof v !== "boolean") throw new Error(`metadata ${key}: expected a boolean`);
      return b.u8(v ? 1 : 0);
    case GgufValueType.STRING:
      if (typeof v !== "string") throw new Error(`metadata ${key}: expected a string`);
      return b.str(v);
    default:
      throw new Error(`metadata ${key}: unknown value type ${type}`);
  }
}

function writeValue(b: Bytes, key: string, v: GgufWriteValue): void {
  if (v.type !== GgufValueType.ARRAY) return writeScalar(b, key, v.type, v.value);
  const arr = v.value as ArrayLike<Scalar | GgufWriteValue>;
  if (v.arrayType === undefined || GgufValueType[v.arrayType] === undefined || typeof arr !== "object" || typeof arr.length !== "number")
    throw new Error(`metadata ${key}: an ARRAY needs an arrayType and an array value`);
  b.u32(v.arrayType);
  b.u64(arr.length);
  for (let i = 0; i < arr.length; i++) {
    const el = arr[i];
    if (v.arrayType === GgufValueType.ARRAY) {
      const inner = el as GgufWriteValue;
      if (inner?.type !== GgufValueType.ARRAY) throw new Error(`metadata ${key}[${i}]: expected a nested array value`);
      writeValue(b, `${key}[${i}]`, inner);
    } else writeScalar(b, key, v.arrayType, el);
  }
}

async function writeAll(fh: import("node:fs/promises").FileHandle, buf: Buffer): Promise<void> {
  for (let off = 0; off < buf.length; ) off += (await fh.write(buf, off, buf.length - off)).bytesWritten;
}

/**
 * Write a GGUF v3 file. Tensor data is written in order and streamed; data given as a function is
 * called once, during writing. Writes to a temp file and renames, so a failure leaves nothing behind.
 */
export async function writeGguf(
  path: string,
  metadata: Map<string, GgufWriteValue> | [string, GgufWriteValue][],
  tensors: GgufWriteTensor[],
  opts: { alignment?: number } = {},
): Promise<void> {
  const kvs = [...metadata];
  const keys = new Set<string>();
  for (const [k] of kvs) {
    if (keys.has(k)) throw new Error(`duplicate metadata key ${k}`);
    keys.add(k);
  }

  // general.alignment in the metadata wins; an opts.alignment is recorded there so readers agree.
  let alignment = opts.alignment ?? GGUF_DEFAULT_ALIGNMENT;
  const alignKv = kvs.find(([k]) => k === "general.alignment");
  if (alignKv) {
    const [, v] = alignKv;
    if (v.type !== GgufValueType.UINT32) throw new Error("general.alignment must be a UINT32");
    if (opts.alignment !== undefined && opts.alignment !== Number(v.value))
      throw new Error(`alignment ${opts.alignment} conflicts with general.alignment ${v.value}`);
    alignment = Number(v.value);
  } else if (alignment !== GGUF_DEFAULT_ALIGNMENT) {
    kvs.push(["general.alignment", { type: GgufValueType.UINT32, value: alignment }]);
  }
  if (!Number.isInteger(alignment) || alignment < 1 || (alignment & (alignment - 1)) !== 0)
    throw new Error(`alignment must be a power of two, got ${alignment}`);

  // Validate every tensor before touching the disk.
  const names = new Set<string>();
  const sizes = tensors.map((t) => {
    if (names.has(t.name)) throw new Error(`duplicate tensor name ${t.name}`);
    names.add(t.name);
    const size = tensorByteLength(t.name, t.type, t.shape);
    if (Buffer.isBuffer(t.data) && t.data.length !== size)
      throw new Error(`tensor ${t.name}: data is ${t.data.length} bytes, ${GgmlType[t.type]} [${t.shape.join(", ")}] needs ${size}`);
    return size;
  });

  const h = new Bytes();
  h.u32(GGUF_MAGIC);
  h.u32(3);
  h.u64(tensors.length);
  h.u64(kvs.length);
  for (const [k, v] of kvs) {
    h.str(k);
    h.u32(v.type);
    try {
      writeValue(h, k, v);
    } catch (e) { // Node's RangeError does not name the key
      throw (e as Error).message.includes(k) ? e : new Error(`metadata ${k}: ${(e as Error).message}`);
    }
  }
  let offset = 0;
  tensors.forEach((t, i) => {
    h.str(t.name);
    h.u32(t.shape.length);
    for (const d of t.shape) h.u64(d);
    h.u32(t.type);
    h.u64(offset);
    offset += sizes[i]!;
    offset += (alignment - (offset % alignment)) % alignment;
  });
  h.pad(alignment);

  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`);
  const fh = await open(tmp, "w", 0o644);
  try {
    await writeAll(fh, h.bytes());
    const zeros = Buffer.alloc(alignment);
    for (let i = 0; i < tensors.length; i++) {
      const t = tensors[i]!;
      const size = sizes[i]!;
      let written = 0;
      if (Buffer.isBuffer(t.data)) {
        await writeAll(fh, t.data);
        written = t.data.length;
      } else {
        for await (const chunk of t.data()) {
          written += chunk.length;
          if (written > size) break;
          await writeAll(fh, chunk);
        }
        if (written !== size)
          throw new Error(`tensor ${t.name}: data stream gave ${written > size ? "more than " : ""}${written} bytes, ${GgmlType[t.type]} [${t.shape.join(", ")}] needs ${size}`);
      }
      const pad = (alignment - (size % alignment)) % alignment;
      if (pad) await writeAll(fh, zeros.subarray(0, pad));
    }
    await fh.close();
    await rename(tmp, path);
  } catch (err) {
    await fh.close().catch(() => {});
    await unlink(tmp).catch(() => {});
    throw err;
  }
}

// ---- encoders for building models in JS ----

const f32Scratch = new Float32Array(1);
const u32Scratch = new Uint32Array(f32Scratch.buffer);

/** IEEE half bits of a float, rounding to nearest even (what ggml's F32→F16 does). */
export function f32ToF16Bits(x: number): number {
  f32Scratch[0] = x;
  const bits = u32Scratch[0]!;
  const sign = (bits >>> 16) & 0x8000;
  const exp32 = (bits >>> 23) & 0xff;
  let mant = bits & 0x7fffff;
  if (exp32 === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const exp = exp32 - 127 + 15;
  if (exp >= 0x1f) return sign | 0x7c00;
  if (exp <= 0) {
    // Subnormal half: value = mant24 * 2^(exp-14) units of 2^-24.
    if (exp < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - exp;
    let half = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    if (rem > mid || (rem === mid && half & 1)) half++;
    return sign | half;
  }
  let half = (exp << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && half & 1)) half++; // a carry into the exponent is still correct
  return sign | half;
}

/** F32 values → F16 tensor bytes. */
export function encodeF16(src: ArrayLike<number>): Buffer {
  const out = Buffer.allocUnsafe(src.length * 2);
  for (let i = 0; i < src.length; i++) out.writeUInt16LE(f32ToF16Bits(src[i]!), i * 2);
  return out;
}

/** F32 values → F32 tensor bytes (little-endian). */
export function encodeF32(src: ArrayLike<number>): Buffer {
  const out = Buffer.allocUnsafe(src.length * 4);
  for (let i = 0; i < src.length; i++) out.writeFloatLE(src[i]!, i * 4);
  return out;
}

/** F32 values → Q8_0 blocks: per 32 values, an f16 scale d = max|x|/127 and 32 int8 q = round(x/d). */
export function encodeQ8_0(src: ArrayLike<number>): Buffer {
  if (src.length % 32 !== 0) throw new Error(`Q8_0 needs a multiple of 32 values, got ${src.length}`);
  const out = Buffer.allocUnsafe((src.length / 32) * 34);
  for (let b = 0, o = 0; b < src.length; b += 32, o += 34) {
    let amax = 0;
    for (let i = 0; i < 32; i++) amax = Math.max(amax, Math.abs(src[b + i]!));
    const d = Math.fround(amax / 127);
    const id = d ? 1 / d : 0;
    out.writeUInt16LE(f32ToF16Bits(d), o);
    for (let i = 0; i < 32; i++) {
      const v = src[b + i]! * id;
      out[o + 2 + i] = (v < 0 ? -Math.round(-v) : Math.round(v)) & 0xff; // roundf: halves away from zero
    }
  }
  return out;
}
