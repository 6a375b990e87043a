// Fuzz targets: each parses untrusted input with one module and may fail only with that module's own
// error type. Anything else (TypeError, RangeError, ...) is a crash the harness reports.
import fc from "fast-check";
import { mkdtempSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { decodeKeepAlive } from "../../src/api/duration.js";
import { decodeEmbeddingsRequest, decodeEmbedRequest } from "../../src/api/embed.js";
import { ApiError } from "../../src/api/errors.js";
import { decodeChatRequest, decodeGenerateRequest } from "../../src/api/inference.js";
import { parseRequestJson } from "../../src/api/json.js";
import { decodeCopyRequest, decodeCreateRequest, decodeDeleteRequest, decodeShowRequest } from "../../src/api/models.js";
import { decodePullRequest, decodePushRequest } from "../../src/api/registry.js";
import { decodeModelfile, ModelfileError, parseModelfile } from "../../src/create/modelfile.js";
import { GgufError, readGguf } from "../../src/gguf/reader.js";
import { readSafetensorsHeader, SafetensorsError } from "../../src/gguf/safetensors/reader.js";
import { parseTemplate, TemplateError } from "../../src/prompt/template.js";
import { isValidName, parseModelName } from "../../src/store/name.js";
import { validGguf } from "../support/gguf-bytes.js";
import { jsonBodyText, modelfileText, mutatedBytes, nameText, safetensorsBytes, templateText } from "./arbitraries.js";
import { decodeResponsesRequest } from "../../src/api/responses.js";
import { toNativeChat as responsesToNativeChat } from "../../src/server/openai/responses/request.js";
import { inflateZstd } from "../../src/server/zstd-body.js";
import { responsesBodyText, zstdBodyBytes } from "./responses-arbitraries.js";

export interface Target<T> {
  name: string;
  arb: fc.Arbitrary<T>;
  /** Runs one input; a throw that `expected` accepts is a legitimate refusal. */
  run(input: T): unknown;
  expected(e: unknown): boolean;
}

const DECODERS = {
  generate: decodeGenerateRequest, chat: decodeChatRequest, embed: decodeEmbedRequest, embeddings: decodeEmbeddingsRequest,
  create: decodeCreateRequest, show: decodeShowRequest, copy: decodeCopyRequest, delete: decodeDeleteRequest,
  pull: decodePullRequest, push: decodePushRequest, keep_alive: decodeKeepAlive,
} satisfies Record<string, (body: unknown) => unknown>;

// One scratch directory per process for the file-reading targets; each case overwrites its file.
let scratch: string | undefined;
const scratchFile = (name: string) => join((scratch ??= mkdtempSync(join(tmpdir(), "corral-fuzz-"))), name);

export const targets: Target<any>[] = [
  {
    name: "api decoders (request JSON → typed request)",
    arb: fc.tuple(fc.constantFrom(...(Object.keys(DECODERS) as (keyof typeof DECODERS)[])), jsonBodyText),
    run: ([which, text]: [keyof typeof DECODERS, string]) => {
      const body = parseRequestJson(text);
      DECODERS[which](which === "keep_alive" && body && typeof body === "object" ? (body as Record<string, unknown>).keep_alive : body);
    },
    // Some refusals are 500s by the spec (an invalid `format`, a mistyped option), as in Ollama.
    expected: (e) => e instanceof ApiError,
  } satisfies Target<[keyof typeof DECODERS, string]>,
  {
    name: "gguf reader (arbitrary and mutated files)",
    arb: fc.oneof(fc.uint8Array({ maxLength: 600 }), mutatedBytes(validGguf())),
    run: async (bytes: Uint8Array) => {
      const path = scratchFile("case.gguf");
      await writeFile(path, bytes);
      await readGguf(path);
    },
    expected: (e) => e instanceof GgufError,
  },
  {
    name: "safetensors header reader",
    arb: safetensorsBytes,
    run: async (bytes: Uint8Array) => {
      const path = scratchFile("case.safetensors");
      await writeFile(path, bytes);
      await readSafetensorsHeader(path);
    },
    expected: (e) => e instanceof SafetensorsError,
  },
  {
    name: "modelfile parser",
    arb: fc.oneof(modelfileText.map((s) => Buffer.from(s)), fc.uint8Array({ maxLength: 300 })),
    run: (bytes: Uint8Array) => parseModelfile(decodeModelfile(bytes)),
    expected: (e) => e instanceof ModelfileError,
  },
  {
    name: "go template parser",
    arb: templateText,
    run: (source: string) => parseTemplate(source),
    expected: (e) => e instanceof TemplateError,
  },
  {
    name: "responses request (JSON → native chat request)",
    arb: fc.oneof(responsesBodyText, jsonBodyText),
    run: (text: string) => responsesToNativeChat(decodeResponsesRequest(parseRequestJson(text))),
    expected: (e) => e instanceof ApiError,
  },
  {
    name: "zstd request body",
    arb: zstdBodyBytes,
    run: (bytes: Uint8Array) => inflateZstd(Buffer.from(bytes)),
    expected: (e) => e instanceof ApiError,
  },
  {
    name: "model name parser",
    arb: nameText,
    run: (input: string) => {
      const n = parseModelName(input);
      // What it accepts becomes directory names under manifests/: never a traversal.
      if (n && (!isValidName(n) || [n.host, n.namespace, n.model, n.tag].some((p) => p === "." || p === ".." || /[/\\\0]/.test(p))))
        throw new Error(`unsafe name accepted: ${JSON.stringify(n)}`);
    },
    expected: () => false,
  },
];
