// Builds test GGUFs from real ones: the same tensors with edited metadata.
import { open } from "node:fs/promises";
import { readGguf, tensorDataSize, type GgufKv } from "../../src/gguf/reader.js";
import { writeGguf, type GgufWriteValue } from "../../src/gguf/writer.js";

export async function rewriteGguf(src: string, dst: string, edit: (md: Map<string, GgufKv>) => void): Promise<void> {
  const f = await readGguf(src);
  const md = new Map(f.metadata);
  edit(md);
  const fh = await open(src, "r");
  try {
    const tensors = [];
    for (const t of f.tensors) {
      const data = Buffer.alloc(tensorDataSize(t)!);
      await fh.read(data, 0, data.length, f.dataOffset + t.offset);
      tensors.push({ name: t.name, type: t.type, shape: t.shape, data });
    }
    await writeGguf(dst, md as Map<string, GgufWriteValue>, tensors);
  } finally {
    await fh.close();
  }
}
