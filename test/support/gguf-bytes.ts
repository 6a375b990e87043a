// Raw GGUF bytes for tests that need headers no writer would produce (crafted counts, lengths, offsets).
import { GgmlType, GgufValueType as T } from "../../src/gguf/types.js";

export const u32 = (n: number) => { const b = Buffer.alloc(4); b.writeUInt32LE(n); return b; };
export const u64 = (n: number | bigint) => { const b = Buffer.alloc(8); b.writeBigUInt64LE(BigInt(n)); return b; };
export const str = (s: string) => Buffer.concat([u64(Buffer.byteLength(s)), Buffer.from(s)]);
export const kv = (key: string, type: T, value: Buffer) => Buffer.concat([str(key), u32(type), value]);

/** Magic, version, tensor count and kv count, then the kvs as given. */
export function header(version: number, tensorCount: number | bigint, kvs: Buffer[], kvCount: number | bigint = kvs.length): Buffer {
  return Buffer.concat([Buffer.from("GGUF"), u32(version), u64(tensorCount), u64(kvCount), ...kvs]);
}

export const tensorInfo = (name: string, shape: number[], type: number, offset: number | bigint) =>
  Buffer.concat([str(name), u32(shape.length), ...shape.map((d) => u64(d)), u32(type), u64(offset)]);

/** A whole GGUF v3: an architecture key, the tensor infos, padding to 32, then `data`. */
export function ggufBytes(tensors: Buffer[], data: Buffer, kvs: Buffer[] = [kv("general.architecture", T.STRING, str("llama"))]): Buffer {
  const head = Buffer.concat([header(3, tensors.length, kvs), ...tensors]);
  const pad = Buffer.alloc((32 - (head.length % 32)) % 32);
  return Buffer.concat([head, pad, data]);
}

/** A small valid GGUF: two F32 tensors of 8 elements, one after the other. */
export const validGguf = () =>
  ggufBytes([tensorInfo("a", [8], GgmlType.F32, 0), tensorInfo("b", [8], GgmlType.F32, 32)], Buffer.alloc(64, 1));
