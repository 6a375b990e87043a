// llama.cpp's split GGUF format (gguf-split): a model cut into `<prefix>-0000i-of-0000n.gguf` parts.
// The first part holds all metadata; every part holds `split.no`, `split.count` and
// `split.tensors.count` and its share of the tensors. Merging writes one ordinary GGUF; splitting
// writes the parts as gguf-split lays them out.
import { createReadStream } from "node:fs";
import { basename } from "node:path";
import { kvNumber } from "./info.js";
import { readGguf, tensorDataSize, type GgufFile, type GgufKv } from "./reader.js";
import { GgufValueType } from "./types.js";
import { writeGguf, type GgufWriteTensor, type GgufWriteValue } from "./writer.js";

export const SPLIT_KEYS = ["split.no", "split.count", "split.tensors.count"] as const;

const SPLIT_NAME = /^(.*)-(\d{5})-of-(\d{5})\.gguf$/;

export class SplitError extends Error {
  override name = "SplitError";
}

/** The parts of a split file name: its prefix, 0-based index and part count; undefined for other names. */
export function splitFileName(name: string): { prefix: string; index: number; count: number } | undefined {
  const m = SPLIT_NAME.exec(basename(name.replaceAll("\\", "/")));
  if (!m) return undefined;
  const index = Number(m[2]);
  const count = Number(m[3]);
  if (index < 1 || count < 1 || index > count) return undefined;
  return { prefix: m[1]!, index: index - 1, count };
}

/** The name of part `index` (0-based) of `count`. */
export function splitPartName(prefix: string, index: number, count: number): string {
  const pad = (n: number) => String(n).padStart(5, "0");
  return `${prefix}-${pad(index + 1)}-of-${pad(count)}.gguf`;
}

/** A file's split facts, or undefined when it is not a part of a split of two or more. */
export function splitOf(f: GgufFile): { no: number; count: number } | undefined {
  const count = kvNumber(f, "split.count");
  if (count === undefined || count <= 1) return undefined;
  const no = kvNumber(f, "split.no");
  if (no === undefined) throw new SplitError("split GGUF is missing split.no metadata");
  return { no, count };
}

export interface SplitPart {
  path: string;
  gguf: GgufFile;
}

/**
 * Writes the parts (in order) as one GGUF: the first part's metadata without the split keys, every
 * part's tensors in turn, their data streamed from the part files.
 */
export async function mergeSplitGguf(parts: SplitPart[], out: string): Promise<void> {
  const first = parts[0];
  if (!first) throw new SplitError("empty split GGUF");
  const declared = kvNumber(first.gguf, "split.tensors.count");
  const total = parts.reduce((n, p) => n + p.gguf.tensors.length, 0);
  if (declared !== undefined && declared !== total)
    throw new SplitError(`split GGUF declares ${declared} tensors, its parts hold ${total}`);
  const metadata = new Map(first.gguf.metadata);
  for (const k of SPLIT_KEYS) metadata.delete(k);
  const tensors: GgufWriteTensor[] = [];
  for (const { path, gguf } of parts) {
    for (const t of gguf.tensors) {
      const start = gguf.dataOffset + t.offset;
      const size = tensorDataSize(t)!; // the reader checked every tensor's type and bounds
      tensors.push({
        name: t.name,
        type: t.type,
        shape: t.shape,
        data: () => (size === 0 ? [] : createReadStream(path, { start, end: start + size - 1, highWaterMark: 1 << 20 })),
      });
    }
  }
  try {
    await writeGguf(out, metadata as Map<string, GgufWriteValue>, tensors);
  } catch (e) {
    // Two parts naming one tensor, for instance.
    throw new SplitError(`cannot merge split GGUF: ${(e as Error).message}`);
  }
}

/**
 * Cuts a GGUF into `count` parts of about equal tensor counts, as gguf-split does: the first part
 * keeps all metadata, the others only the split keys. Returns the part paths.
 */
export async function splitGguf(src: string, prefix: string, count: number): Promise<string[]> {
  const f = await readGguf(src);
  if (count < 2 || count > f.tensors.length) throw new SplitError(`cannot split ${f.tensors.length} tensors into ${count} parts`);
  const per = Math.ceil(f.tensors.length / count);
  const splitKv = (no: number): [string, GgufWriteValue][] => [
    ["split.no", { type: GgufValueType.UINT16, value: no }],
    ["split.count", { type: GgufValueType.UINT16, value: count }],
    ["split.tensors.count", { type: GgufValueType.INT32, value: f.tensors.length }],
  ];
  const paths: string[] = [];
  for (let i = 0; i < count; i++) {
    const md: [string, GgufKv | GgufWriteValue][] = i === 0 ? [...f.metadata, ...splitKv(0)] : splitKv(i);
    const tensors: GgufWriteTensor[] = f.tensors.slice(i * per, (i + 1) * per).map((t) => {
      const start = f.dataOffset + t.offset;
      const size = tensorDataSize(t)!;
      return { name: t.name, type: t.type, shape: t.shape, data: () => createReadStream(src, { start, end: start + size - 1 }) };
    });
    const path = splitPartName(prefix, i, count);
    await writeGguf(path, md as [string, GgufWriteValue][], tensors);
    paths.push(path);
  }
  return paths;
}
