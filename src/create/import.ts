// The heavy steps of /api/create: converting a safetensors directory, taking LoRA adapters (GGUF or
// PEFT safetensors), quantizing the model layer. Their outputs are written to a temporary directory
// outside the models directory and only handed to the store when the manifest is about to be written,
// so a request that fails on the way leaves nothing in the store.
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { ApiError, badRequest } from "../api/errors.js";
import type { ProgressResponse } from "../api/models.js";
import { fileTypeName } from "../gguf/info.js";
import { convertPeftAdapter, isAdapter, LoraError, validateAdapter } from "../gguf/lora.js";
import { checkQuantizable, parseQuantizeType, quantizeGguf, QuantizeError } from "../gguf/quantize.js";
import { GgufError, readGguf, type GgufFile } from "../gguf/reader.js";
import { convertSafetensors } from "../gguf/safetensors/convert.js";
import { SafetensorsError } from "../gguf/safetensors/reader.js";
import { MEDIA_TYPE, type Layer } from "../store/manifest.js";
import type { ModelStore } from "../store/store.js";
import { makeScratchDir } from "../store/scratch.js";

/** A GGUF on disk with its parsed header: a model layer's blob or a freshly made file. */
export interface GgufAt {
  path: string;
  gguf: GgufFile;
}

type Report = (p: ProgressResponse) => void;

/** Files produced during a create, stored as blobs only by commit(). */
export class Staging {
  private dir?: string;
  private readonly pending: { path: string; digest: string }[] = [];

  async file(name: string): Promise<string> {
    this.dir ??= await makeScratchDir();
    return join(this.dir, name);
  }

  /** Hashes a produced file and reports its layer as Ollama does; the blob is written by commit(). */
  async layer(store: ModelStore, path: string, mediaType: string, say: (s: string) => void): Promise<Layer> {
    const hash = createHash("sha256");
    for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
    const digest = `sha256:${hash.digest("hex")}`;
    say(`${(await store.hasBlob(digest)) ? "using existing" : "creating new"} layer ${digest}`);
    this.pending.push({ path, digest });
    return { mediaType, digest, size: (await stat(path)).size };
  }

  /** Stores the staged files whose layers made it into the manifest. */
  async commit(store: ModelStore, layers: Layer[]): Promise<void> {
    const used = new Set(layers.map((l) => l.digest));
    for (const p of this.pending) if (used.has(p.digest)) await store.writeBlobStream(p.digest, createReadStream(p.path));
  }

  async dispose(): Promise<void> {
    if (this.dir) await rm(this.dir, { recursive: true, force: true });
  }
}

/** Input errors of the gguf layer become 400s with their reason. */
function asBadRequest(e: unknown): never {
  if (e instanceof SafetensorsError || e instanceof LoraError || e instanceof QuantizeError || e instanceof GgufError) throw badRequest(e.message);
  throw e;
}

const SAFETENSORS_SIDE_FILES = /(\.json|\.jinja|(^|\/)tokenizer\.model)$/i;

/** Whether a create's files are a Hugging Face directory rather than GGUF blobs. */
export function isSafetensorsSet(names: string[]): boolean {
  return names.some((n) => n.toLowerCase().endsWith(".safetensors")) || (names.length > 0 && names.every((n) => SAFETENSORS_SIDE_FILES.test(n)));
}

/** Blob paths keyed by the names relative to the model directory (config.json, tokenizer.model, ...). */
async function blobFiles(store: ModelStore, files: [string, string][]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const [file, digest] of files) {
    if (file.toLowerCase().endsWith(".gguf")) throw badRequest(`cannot mix GGUF file "${file}" with safetensors files`);
    if (!(await store.hasBlob(digest))) throw badRequest(`blob ${digest} for file "${file}" not found; upload it with POST /api/blobs/${digest}`);
    out.set(file.replaceAll("\\", "/"), store.blobPath(digest));
  }
  return out;
}

/** A safetensors directory → a staged GGUF model layer ("converting model"). */
export async function convertModelFiles(
  store: ModelStore, files: [string, string][], staging: Staging, modelName: string, say: (s: string) => void,
): Promise<{ layer: Layer } & GgufAt> {
  const paths = await blobFiles(store, files);
  say("converting model");
  const out = await staging.file("model.gguf");
  await convertSafetensors(paths, out, modelName).catch(asBadRequest);
  const gguf = await readGguf(out);
  return { layer: await staging.layer(store, out, MEDIA_TYPE.model, say), path: out, gguf };
}

/**
 * The adapter layer of a create: exactly one GGUF LoRA, or a PEFT safetensors adapter converted for
 * `base`. Either way it is checked against the base model's tensors.
 */
export async function adapterLayer(
  store: ModelStore, adapters: [string, string][], base: GgufAt, staging: Staging, say: (s: string) => void,
): Promise<Layer> {
  if (isSafetensorsSet(adapters.map(([f]) => f))) {
    const paths = await blobFiles(store, adapters);
    say("converting adapter");
    const out = await staging.file("adapter.gguf");
    await convertPeftAdapter(paths, base.gguf, out).catch(asBadRequest);
    const gguf = await readGguf(out);
    try {
      validateAdapter(gguf, base.gguf);
    } catch (e) {
      asBadRequest(e);
    }
    return staging.layer(store, out, MEDIA_TYPE.adapter, say);
  }
  if (adapters.length > 1) throw badRequest("only one adapter is currently supported");
  const [file, digest] = adapters[0]!;
  if (!(await store.hasBlob(digest))) throw badRequest(`blob ${digest} for file "${file}" not found; upload it with POST /api/blobs/${digest}`);
  let gguf: GgufFile;
  try {
    gguf = await readGguf(store.blobPath(digest));
  } catch (e) {
    if (e instanceof GgufError) throw badRequest(`supplied file was not in GGUF format: ${e.message}`);
    throw e;
  }
  if (!isAdapter(gguf)) throw badRequest(`adapter file "${file}" is not a LoRA adapter GGUF (general.type is not "adapter")`);
  try {
    validateAdapter(gguf, base.gguf);
  } catch (e) {
    asBadRequest(e);
  }
  const d = digest.replace("-", ":");
  say(`using existing layer ${d}`);
  return { mediaType: MEDIA_TYPE.adapter, digest: d, size: gguf.fileSize };
}

/** Checks a quantize request before any work; returns the canonical type name. */
export function quantizeTarget(requested: string): string {
  try {
    return parseQuantizeType(requested).name;
  } catch (e) {
    asBadRequest(e);
  }
}

/** Quantizes the model layer with llama.cpp's quantizer, reporting progress over its tensor bytes. */
export async function quantizeLayer(
  store: ModelStore, base: GgufAt, type: string, staging: Staging, report: Report, signal?: AbortSignal,
): Promise<{ layer: Layer } & GgufAt> {
  let from: string;
  try {
    from = checkQuantizable(base.gguf);
  } catch (e) {
    asBadRequest(e);
  }
  const status = `quantizing ${from} model to ${type}`;
  const out = await staging.file(`model-${type}.gguf`);
  await quantizeGguf(base.path, base.gguf, out, type, {
    signal,
    onProgress: (completed, total) => report({ status, digest: "0000000000000000000", total, completed }),
  }).catch((e) => {
    if (e instanceof QuantizeError) throw new ApiError(500, e.message); // valid input the quantizer still refused
    throw e;
  });
  report({ status: "verifying conversion" });
  let gguf: GgufFile;
  try {
    gguf = await readGguf(out);
  } catch (e) {
    throw new ApiError(500, `quantized model is unreadable: ${(e as Error).message}`);
  }
  if (gguf.tensors.length !== base.gguf.tensors.length || fileTypeName(gguf) !== type)
    throw new ApiError(500, `quantized model does not match: ${gguf.tensors.length} tensors of type ${fileTypeName(gguf)}`);
  return { layer: await staging.layer(store, out, MEDIA_TYPE.model, (s) => report({ status: s })), path: out, gguf };
}

/** The GGUF of the model layer among `layers` (a stored blob). */
export async function modelLayerGguf(store: ModelStore, layers: Layer[]): Promise<GgufAt> {
  const l = layers.find((x) => x.mediaType === MEDIA_TYPE.model);
  if (!l) throw badRequest("no model weights found: the files hold no GGUF model");
  const path = store.blobPath(l.digest);
  return { path, gguf: await readGguf(path) };
}
