// Inputs for the Responses targets: request bodies with the Responses field names and item shapes
// (valid ones, wrong types, missing parts), and zstd bodies built from real frames with bytes changed.
import fc from "fast-check";
import { rawFrame, rleFrame, skippableFrame } from "../support/zstd.js";
import { mutatedBytes } from "./arbitraries.js";

const junk = fc.oneof(fc.string({ maxLength: 8 }), fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.constant([]), fc.constant({}));
const text = fc.oneof(fc.constantFrom("", "hi", "{}", '{"city":"Paris"}', "{oops", "[1]", "data:image/png;base64,iVBORw0KGgo=", "https://x/y.png"), junk);

const part = fc.record(
  {
    type: fc.oneof(fc.constantFrom("input_text", "output_text", "input_image", "input_file", "refusal"), junk),
    text, image_url: text, file_id: text,
  },
  { requiredKeys: [] },
);
const content = fc.oneof(text, fc.array(fc.oneof(part, junk), { maxLength: 3 }));

const item = fc.record(
  {
    type: fc.oneof(fc.constantFrom("message", "function_call", "function_call_output", "reasoning", "web_search_call", "item_reference", ""), junk),
    role: fc.oneof(fc.constantFrom("user", "assistant", "system", "developer"), junk),
    content,
    call_id: fc.oneof(fc.constantFrom("c1", "c2"), junk),
    name: text,
    arguments: text,
    output: content,
    encrypted_content: text,
    summary: fc.oneof(fc.array(fc.oneof(fc.record({ type: text, text }), junk), { maxLength: 2 }), junk),
  },
  { requiredKeys: [] },
);

const tool = fc.record(
  {
    type: fc.oneof(fc.constantFrom("function", "namespace", "web_search", "custom"), junk),
    name: text, description: text, strict: fc.oneof(fc.boolean(), junk),
    parameters: fc.oneof(fc.constant({ type: "object", properties: {} }), junk),
    tools: fc.oneof(fc.array(fc.record({ type: fc.constant("function"), name: text }), { maxLength: 2 }), junk),
  },
  { requiredKeys: [] },
);

/** Responses request bodies as JSON text. */
export const responsesBodyText: fc.Arbitrary<string> = fc
  .record(
    {
      model: fc.oneof(fc.constant("m"), junk),
      input: fc.oneof(text, fc.array(fc.oneof(item, junk), { maxLength: 5 })),
      instructions: text,
      tools: fc.oneof(fc.array(fc.oneof(tool, junk), { maxLength: 3 }), junk),
      stream: fc.oneof(fc.boolean(), junk),
      temperature: fc.oneof(fc.double(), junk),
      top_p: fc.oneof(fc.double(), junk),
      max_output_tokens: fc.oneof(fc.integer(), junk),
      reasoning: fc.oneof(fc.record({ effort: fc.oneof(fc.constantFrom("none", "low", "high", "huge"), junk), summary: text }, { requiredKeys: [] }), junk),
      text: fc.oneof(fc.record({ format: fc.oneof(fc.record({ type: fc.constantFrom("text", "json_schema", "json_object"), schema: junk }), junk) }), junk),
      previous_response_id: fc.oneof(fc.constant("resp_1"), junk),
      background: fc.oneof(fc.boolean(), junk),
    },
    { requiredKeys: [] },
  )
  .map((o) => JSON.stringify(o));

const SAMPLE = Buffer.from(JSON.stringify({ model: "m", input: "Once upon a time" }));
// `zstd -19` of a 4906-byte Responses request (one entropy-coded block), as in responses-zstd.test.ts.
const COMPRESSED = Buffer.from(
  "KLUv/WQqEvUCAGIHFRGg7ZCzGvziuVoFUJ8fF6n/wrUeMAMxMnzMnZOjfafk24u2mT0M8thYuTYtX0tn5rIHQc5Q9kJ+jPvhzFKDBc09Cfi0cvKWr6WHR07QdTz5YuTYaQEAc6y8L1E6BMHp",
  "base64",
);

/** zstd bodies: real frames (entropy-coded, raw, RLE, skippable) with bytes changed, and arbitrary bytes. */
export const zstdBodyBytes: fc.Arbitrary<Uint8Array> = fc.oneof(
  mutatedBytes(COMPRESSED),
  mutatedBytes(Buffer.concat([skippableFrame(Buffer.from("meta")), rawFrame(SAMPLE)])),
  mutatedBytes(rleFrame(0x20, 3)),
  fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.concat([Buffer.from([0x28, 0xb5, 0x2f, 0xfd]), b])),
);
