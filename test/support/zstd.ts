// Hand-built zstd frames (raw and RLE blocks need no entropy coding), for request-body tests that
// must control frame headers exactly: window sizes, declared sizes, skippable frames, bombs.

const MAGIC = Buffer.from([0x28, 0xb5, 0x2f, 0xfd]);
const BLOCK_MAX = 128 * 1024;

function blockHeader(last: boolean, type: 0 | 1, size: number): Buffer {
  const v = (last ? 1 : 0) | (type << 1) | (size << 3);
  return Buffer.from([v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff]);
}

/** A frame header with a window descriptor (window = 2^windowLog) and no declared content size. */
function header(windowLog: number): Buffer {
  return Buffer.concat([MAGIC, Buffer.from([0x00, (windowLog - 10) << 3])]);
}

/** `data` stored in raw blocks. */
export function rawFrame(data: Buffer, windowLog = 17): Buffer {
  const parts = [header(windowLog)];
  let at = 0;
  do {
    const chunk = data.subarray(at, at + BLOCK_MAX);
    at += BLOCK_MAX;
    parts.push(blockHeader(at >= data.length, 0, chunk.length), chunk);
  } while (at < data.length);
  return Buffer.concat(parts);
}

/** `blocks` RLE blocks of 128 KiB of `byte` each: a few bytes that decompress to blocks * 128 KiB. */
export function rleFrame(byte: number, blocks: number): Buffer {
  const parts = [header(17)];
  for (let i = 0; i < blocks; i++) parts.push(blockHeader(i === blocks - 1, 1, BLOCK_MAX), Buffer.from([byte]));
  return Buffer.concat(parts);
}

/** A frame header that declares a window of 2^windowLog bytes, followed by one tiny raw block. */
export function wideWindowFrame(windowLog: number): Buffer {
  return Buffer.concat([header(windowLog), blockHeader(true, 0, 2), Buffer.from("{}")]);
}

/** A single-segment frame header declaring a content size of `size` bytes (8-byte field), then one raw block. */
export function declaredSizeFrame(size: number): Buffer {
  const fcs = Buffer.alloc(8);
  fcs.writeBigUInt64LE(BigInt(size));
  return Buffer.concat([MAGIC, Buffer.from([0xe0]), fcs, blockHeader(true, 0, 2), Buffer.from("{}")]);
}

/** A skippable frame: clients may put metadata there; decoders pass over it. */
export function skippableFrame(data: Buffer): Buffer {
  const size = Buffer.alloc(4);
  size.writeUInt32LE(data.length);
  return Buffer.concat([Buffer.from([0x50, 0x2a, 0x4d, 0x18]), size, data]);
}
