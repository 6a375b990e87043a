// Input generators that reach past the first check of each parser: JSON with the real field names,
// text built from each grammar's own tokens, and valid files with a few bytes changed.
import fc from "fast-check";

const FIELDS = [
  "model", "name", "prompt", "suffix", "system", "template", "context", "stream", "raw", "format", "images", "options",
  "keep_alive", "think", "messages", "role", "content", "tool_calls", "tools", "function", "arguments", "input",
  "truncate", "dimensions", "from", "files", "adapters", "draft_files", "license", "parameters", "quantize",
  "quantization", "source", "destination", "insecure", "verbose", "num_ctx", "temperature", "stop", "seed",
  "logprobs", "top_logprobs", "thinking", "tool_name", "type", "properties", "required",
];

const scalar = fc.oneof(
  fc.string({ maxLength: 12 }), fc.integer(), fc.double(), fc.boolean(), fc.constant(null),
  fc.constantFrom("5m", "-1", "0", "1h2m", "json", "high", "user", "sha256:" + "a".repeat(64), "1e400", "NaN"),
);
const { value } = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    scalar,
    fc.array(tie("value"), { maxLength: 4 }),
    fc.dictionary(fc.oneof(fc.constantFrom(...FIELDS), fc.string({ maxLength: 6 })), tie("value"), { maxKeys: 5 }),
  ),
}));

/** JSON request bodies: mostly objects with real field names, sometimes mangled text. */
export const jsonBodyText: fc.Arbitrary<string> = fc.oneof(
  { arbitrary: fc.dictionary(fc.constantFrom(...FIELDS), value, { maxKeys: 6 }).map((o) => JSON.stringify(o)), weight: 6 },
  { arbitrary: value.map((v) => JSON.stringify(v) ?? "null"), weight: 2 },
  { arbitrary: fc.string({ maxLength: 40 }), weight: 1 },
  { arbitrary: fc.constantFrom('{"a":1}{"b":2}', '{"model":"x"} trailing', "\ufeff{}", '{"model":"\\ud800"}', "", "   "), weight: 1 },
);

/** A valid file with bytes overwritten, cut short, or a run of 0xff (huge counts) written in. */
export function mutatedBytes(base: Buffer): fc.Arbitrary<Uint8Array> {
  const edit = fc.oneof(
    fc.record({ kind: fc.constant("set" as const), at: fc.nat(base.length - 1), byte: fc.integer({ min: 0, max: 255 }) }),
    fc.record({ kind: fc.constant("ff" as const), at: fc.nat(base.length - 1), len: fc.integer({ min: 1, max: 8 }) }),
    fc.record({ kind: fc.constant("cut" as const), at: fc.nat(base.length) }),
  );
  return fc.array(edit, { minLength: 1, maxLength: 4 }).map((edits) => {
    let b = Buffer.from(base);
    for (const e of edits) {
      if (e.kind === "set") b[e.at % b.length] = e.byte;
      else if (e.kind === "ff") b.fill(0xff, e.at % b.length, Math.min(b.length, (e.at % b.length) + e.len));
      else b = b.subarray(0, e.at % (b.length + 1));
      if (b.length === 0) break;
    }
    return b;
  });
}

const tensorEntry = fc.record(
  {
    dtype: fc.oneof(fc.constantFrom("F32", "F16", "BF16", "I8", "U8", "F64", "BOOL", "F128", ""), fc.integer(), fc.constant(null)),
    shape: fc.oneof(fc.array(fc.oneof(fc.nat(8), fc.integer(), fc.double(), fc.constant(2 ** 60)), { maxLength: 3 }), value),
    data_offsets: fc.oneof(fc.tuple(fc.nat(64), fc.nat(64)), fc.array(fc.oneof(fc.integer(), fc.double()), { maxLength: 3 }), value),
  },
  { requiredKeys: [] },
);
const stHeader = fc.dictionary(fc.oneof(fc.constant("__metadata__"), fc.string({ maxLength: 4 })), fc.oneof(tensorEntry, value), { maxKeys: 4 });

/** Safetensors files: a real length prefix and JSON header (or a lying length), then some data. */
export const safetensorsBytes: fc.Arbitrary<Uint8Array> = fc.oneof(
  fc.tuple(fc.oneof(stHeader.map((h) => JSON.stringify(h)), fc.string({ maxLength: 30 })), fc.nat(96), fc.option(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), { freq: 4 })).map(([header, data, lie]) => {
    const h = Buffer.from(header);
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(lie ?? BigInt(h.length));
    return Buffer.concat([len, h, Buffer.alloc(data, 7)]);
  }),
  fc.uint8Array({ maxLength: 64 }),
);

const MODELFILE_TOKENS = [
  "FROM ", "from ", "PARAMETER ", "TEMPLATE ", "SYSTEM ", "ADAPTER ", "LICENSE ", "MESSAGE ", "DRAFT ", "REQUIRES ",
  "user ", "assistant ", "system ", "num_ctx ", "stop ", "temperature ", "\"\"\"", "\"", "#", "\n", "\r\n", " ", "\t",
  "llama3", "./model.gguf", "0.5", "-1", "true", "{{ .Prompt }}", "\\", "\ufeff",
];
export const modelfileText: fc.Arbitrary<string> = fc
  .array(fc.oneof({ arbitrary: fc.constantFrom(...MODELFILE_TOKENS), weight: 8 }, { arbitrary: fc.string({ maxLength: 4 }), weight: 1 }), { maxLength: 30 })
  .map((parts) => parts.join(""));

const TEMPLATE_TOKENS = [
  "{{", "}}", "{{-", "-}}", " ", "if ", "else", "else if ", "end", "range ", "with ", "define ", "template ", "block ",
  "break", "continue", ".", ".Prompt", ".Messages", "$x", "$", ":=", "=", "|", "(", ")", "\"s\"", "`raw`", "'c'", "1",
  "1.5e3", "0x1F", "-", "and ", "or ", "not ", "eq ", "len ", "slice ", "index ", "printf ", "json ", "nil", "true",
  "/*", "*/", ",", "\n", "text ",
];
export const templateText: fc.Arbitrary<string> = fc.oneof(
  { arbitrary: fc.array(fc.constantFrom(...TEMPLATE_TOKENS), { maxLength: 40 }).map((p) => p.join("")), weight: 8 },
  { arbitrary: fc.string({ maxLength: 40 }), weight: 1 },
);

const NAME_TOKENS = ["/", ":", ".", "..", "a", "Z9", "_", "-", "http://", "https://", "host:5000", "library", "latest", "\\", "%2e", " ", "\0", "é", "@sha256:"];
export const nameText: fc.Arbitrary<string> = fc.oneof(
  { arbitrary: fc.array(fc.constantFrom(...NAME_TOKENS), { maxLength: 14 }).map((p) => p.join("")), weight: 4 },
  { arbitrary: fc.string({ maxLength: 30 }), weight: 1 },
);
