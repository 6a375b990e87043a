// Reading the data of one GGUF tensor (whole, or in chunks for big ones).
import { open } from "node:fs/promises";
import { GgmlType } from "./types.js";
import { GgufError, tensorDataSize, type GgufFile, type GgufTensorInfo } from "./reader.js";

export async function readTensorBytes(path: string, f: GgufFile, t: GgufTensorInfo): Promise<Buffer> {
  const size = tensorDataSize(t);
  if (size === undefined) throw new GgufError(`tensor ${t.name}: unknown ggml type ${t.type}`);
  const buf = Buffer.alloc(size);
  const fh = await open(path, "r");
  try {
    const { bytesRead } = await fh.read(buf, 0, size, f.dataOffset + t.offset);
    if (bytesRead !== size) throw new GgufError(`tensor ${t.name}: truncated data`);
  } finally {
    await fh.close();
  }
  return buf;
}

/** An F32/F16 tensor's values as floats. */
export async function readTensorF32(path: string, f: GgufFile, t: GgufTensorInfo): Promise<Float32Array> {
  const b = await readTensorBytes(path, f, t);
  if (t.type === GgmlType.F32) return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length));
  if (t.type === GgmlType.F16) {
    const out = new Float32Array(b.length / 2);
    for (let i = 0; i < out.length; i++) out[i] = f16ToF32(b.readUInt16LE(i * 2));
    return out;
  }
  throw new GgufError(`tensor ${t.name}: ${GgmlType[t.type]} is not a float type`);
}

export function f16ToF32(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 0x1f) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}
