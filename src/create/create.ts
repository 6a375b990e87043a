// POST /api/create (JSON form): builds a model's layers from GGUF blobs, a safetensors directory or an
// existing model, with an optional LoRA adapter and quantization (import.ts), plus template, system,
// license, parameters and messages layers, then writes config and manifest.
// Everything is validated before the first status is reported, so bad input is a plain 400.
import { createHash } from "node:crypto";
import { badRequest, notFound } from "../api/errors.js";
import type { Message } from "../api/inference.js";
import type { CreateRequest, ProgressResponse } from "../api/models.js";
import { GgufError, readGguf, type GgufFile } from "../gguf/reader.js";
import { architecture, fileTypeName, humanNumber, parameterCount } from "../gguf/info.js";
import { parseTemplate, TemplateError } from "../prompt/template.js";
import { goJson } from "../store/gojson.js";
import { buildManifest, CONFIG_MEDIA_TYPE, MEDIA_TYPE, type Layer } from "../store/manifest.js";
import { ManifestError } from "../registry/pull.js";
import { registryFor } from "../registry/service.js";
import { readModel, type ModelConfig, type StoredModel } from "../store/model.js";
import { adapterLayer, convertModelFiles, isSafetensorsSet, modelLayerGguf, quantizeLayer, quantizeTarget, Staging, type GgufAt } from "./import.js";
import { parseModelName, type ModelName } from "../store/name.js";
import { mergeSplits, splitGroups } from "./split.js";
import { detectTemplate } from "./template-detect.js";
import type { ModelStore } from "../store/store.js";

const DIGEST = /^sha256[:-][0-9a-fA-F]{64}$/;

function isCleanRelativePath(p: string): boolean {
  if (p === "" || p.startsWith("/") || p.startsWith("\\") || /^[A-Za-z]:/.test(p)) return false;
  return !p.split(/[\\/]/).some((seg) => seg === ".." || seg === "");
}

/** Checks done before any work: names, file paths, digests. */
function validate(req: CreateRequest, model: string) {
  for (const [file, digest] of [
    ...Object.entries(req.files ?? {}),
    ...Object.entries(req.adapters ?? {}),
    ...Object.entries(req.draft_files ?? {}),
  ]) {
    if (!isCleanRelativePath(file)) throw badRequest("file path must be relative");
    if (!digest || !DIGEST.test(digest)) throw badRequest("invalid digest format");
  }
  if (!parseModelName(model)) throw badRequest("invalid model name");
}

function goMessage(m: Message) {
  return { role: m.role, content: m.content ?? "" };
}

/** A GGUF file's layer media type: adapters and projectors are layers of their own kind. */
function ggufMediaType(f: GgufFile): string {
  if (f.metadata.get("general.type")?.value === "adapter") return MEDIA_TYPE.adapter;
  if (architecture(f) === "clip") return MEDIA_TYPE.projector;
  return MEDIA_TYPE.model;
}

async function readBlobGguf(store: ModelStore, file: string, digest: string): Promise<GgufFile> {
  if (!(await store.hasBlob(digest))) throw badRequest(`blob ${digest} for file "${file}" not found; upload it with POST /api/blobs/${digest}`);
  const path = store.blobPath(digest);
  try {
    return await readGguf(path);
  } catch (e) {
    if (e instanceof GgufError) {
      if (!file.toLowerCase().endsWith(".gguf") && /not a GGUF/i.test(e.message)) throw badRequest("unknown type");
      throw badRequest(`supplied file was not in GGUF format: ${e.message}`);
    }
    throw e;
  }
}

/** `onProgress` sees each status as it happens (the returned list has them all). */
export async function createModel(
  store: ModelStore,
  req: CreateRequest & { model: string },
  onProgress?: (p: ProgressResponse) => void,
): Promise<ProgressResponse[]> {
  const staging = new Staging();
  try {
    return await buildModel(store, req, staging, onProgress);
  } finally {
    await staging.dispose();
  }
}

/** The model's config facts from its weights. */
function ggufConfig(gguf: GgufFile): ModelConfig {
  const arch = architecture(gguf);
  return {
    model_format: "gguf",
    model_family: arch,
    model_families: [arch],
    model_type: humanNumber(parameterCount(gguf)),
    file_type: fileTypeName(gguf),
  };
}

async function buildModel(
  store: ModelStore,
  req: CreateRequest & { model: string },
  staging: Staging,
  onProgress?: (p: ProgressResponse) => void,
): Promise<ProgressResponse[]> {
  validate(req, req.model);
  const name = parseModelName(req.model)!;
  const statuses: ProgressResponse[] = [];
  const report = (p: ProgressResponse) => {
    statuses.push(p);
    onProgress?.(p);
  };
  const say = (status: string) => report({ status });
  const files = Object.entries(req.files ?? {});
  if (!req.from && files.length === 0) throw badRequest("neither 'from' or 'files' was specified");
  const quantize = req.quantize ? quantizeTarget(req.quantize) : undefined;

  let layers: Layer[] = [];
  let config: ModelConfig = {};
  let params: Record<string, unknown> = {};
  let messages: Message[] = [];
  let modelAt: GgufAt | undefined;

  if (req.from && files.length === 0) {
    const fromName = parseModelName(req.from);
    if (!fromName) throw badRequest("invalid model name");
    const base = (await readModel(store, fromName)) ?? (await pullBase(store, fromName, req.from, report));
    config = { ...base.config };
    params = { ...base.params };
    messages = base.messages;
    for (const l of base.stored.manifest.layers) {
      // Inherited params and messages are merged or replaced below.
      if (l.mediaType === MEDIA_TYPE.params || l.mediaType === MEDIA_TYPE.messages) continue;
      layers.push({ ...l, from: l.mediaType === MEDIA_TYPE.model ? base.shortName : l.from });
      say(`using existing layer ${l.digest}`);
    }
  } else if (isSafetensorsSet(files.map(([f]) => f))) {
    // A Hugging Face directory: converted to one GGUF model layer.
    const converted = await convertModelFiles(store, files, staging, name.model, say);
    modelAt = converted;
    layers.push(converted.layer);
    config = ggufConfig(converted.gguf);
  } else {
    const ggufs: { file: string; digest: string; gguf: GgufFile }[] = [];
    for (const [file, digest] of files) {
      ggufs.push({ file, digest: digest.replace("-", ":"), gguf: await readBlobGguf(store, file, digest) });
    }
    // Split parts become one merged layer of their own; the other files are layers as they are.
    const splits = splitGroups(ggufs);
    say("parsing GGUF");
    const merged = await mergeSplits(store, splits, staging, say);
    const parts = new Set(merged.flatMap((m) => m.replaces));
    const added: { layer: Layer; at: GgufAt }[] = [];
    for (const g of ggufs) {
      if (!parts.has(g)) added.push({ layer: { mediaType: ggufMediaType(g.gguf), digest: g.digest, size: g.gguf.fileSize }, at: { path: store.blobPath(g.digest), gguf: g.gguf } });
    }
    for (const { layer } of added) say(`using existing layer ${layer.digest}`);
    for (const m of merged) added.push({ layer: await staging.layer(store, m.path, ggufMediaType(m.gguf), say), at: m });
    for (const { layer, at } of added) {
      layers.push(layer);
      if (layer.mediaType === MEDIA_TYPE.model) {
        config = ggufConfig(at.gguf);
        modelAt = at;
      }
    }
    if (!layers.some((l) => l.mediaType === MEDIA_TYPE.model)) throw badRequest("no model weights found: the files hold no GGUF model");
  }

  // Adapters are checked against the base weights; quantizing replaces the model layer.
  const adapters = Object.entries(req.adapters ?? {});
  if (adapters.length > 0 || quantize) modelAt ??= await modelLayerGguf(store, layers);
  if (adapters.length > 0) {
    layers = layers.filter((l) => l.mediaType !== MEDIA_TYPE.adapter);
    layers.push(await adapterLayer(store, adapters, modelAt!, staging, say));
  }
  const drafts = Object.entries(req.draft_files ?? {});
  if (drafts.length > 0) {
    // The draft must be a model of its own that shares the main model's vocabulary; llama.cpp checks the
    // vocabularies when it loads the pair.
    if (drafts.length > 1) throw badRequest("a draft model is one GGUF file");
    const [file, digest] = drafts[0]!;
    const gguf = await readBlobGguf(store, file, digest);
    if (ggufMediaType(gguf) !== MEDIA_TYPE.model) throw badRequest("the draft file holds no GGUF model");
    layers = layers.filter((l) => l.mediaType !== MEDIA_TYPE.draft);
    const layer = { mediaType: MEDIA_TYPE.draft, digest: digest.replace("-", ":"), size: gguf.fileSize };
    layers.push(layer);
    say(`using existing layer ${layer.digest}`);
  }
  if (quantize) {
    const q = await quantizeLayer(store, modelAt!, quantize, staging, report);
    layers = layers.map((l) => (l.mediaType === MEDIA_TYPE.model ? { ...q.layer, ...(l.from ? { from: l.from } : {}) } : l));
    config = { ...config, file_type: fileTypeName(q.gguf) };
  }

  // Model files whose chat template is a known family get its Go template and stop tokens (as in Ollama).
  const detected = files.length > 0 && !req.template && modelAt ? detectTemplate(modelAt.gguf) : undefined;
  if (detected) {
    layers.push(await newLayer(store, MEDIA_TYPE.template, detected.template, () => say(`using autodetected template ${detected.name}`)));
    params = { ...detected.parameters, ...params };
  }

  const replaceLayer = async (mediaType: string, data: string) => {
    layers = layers.filter((l) => l.mediaType !== mediaType);
    layers.push(await newLayer(store, mediaType, data, say));
  };
  if (req.template) {
    try {
      parseTemplate(req.template);
    } catch (e) {
      if (e instanceof TemplateError) throw badRequest(`template error: ${e.message}`);
      throw e;
    }
    layers = layers.filter((l) => l.mediaType !== MEDIA_TYPE.prompt);
    await replaceLayer(MEDIA_TYPE.template, req.template);
  }
  if (req.system) await replaceLayer(MEDIA_TYPE.system, req.system);
  for (const license of req.license ?? []) layers.push(await newLayer(store, MEDIA_TYPE.license, license, say));
  params = { ...params, ...(req.parameters ?? {}) };
  if (Object.keys(params).length > 0) layers.push(await newLayer(store, MEDIA_TYPE.params, goJson(params, { sortKeys: true }) + "\n", say));
  if (req.messages?.length) messages = req.messages;
  if (messages.length > 0) layers.push(await newLayer(store, MEDIA_TYPE.messages, goJson(messages.map(goMessage)) + "\n", say));

  await staging.commit(store, layers);
  const configBlob = goJson({ ...orderedConfig(config), architecture: "amd64", os: "linux" }) + "\n";
  const configLayer = await store.writeBlob(configBlob);
  say("writing manifest");
  await store.writeManifest(name, buildManifest({ mediaType: CONFIG_MEDIA_TYPE, ...configLayer }, layers));
  say("success");
  return statuses;
}

/** A `from` model that is not here is pulled first, its progress part of the create's (as in Ollama). */
async function pullBase(store: ModelStore, name: ModelName, sent: string, report: (p: ProgressResponse) => void): Promise<StoredModel> {
  try {
    await registryFor(store).pull(name, {}, report);
  } catch (e) {
    // No manifest to be had: the base model exists nowhere we can reach.
    if (e instanceof ManifestError) throw notFound(e.message);
    throw e;
  }
  const base = await readModel(store, name);
  if (!base) throw notFound(`model "${sent}" not found, try pulling it first`);
  return base;
}

/** Go ConfigV2 key order, omitting empty optional fields. */
function orderedConfig(c: ModelConfig) {
  return {
    model_format: c.model_format ?? "",
    model_family: c.model_family ?? "",
    model_families: c.model_families ?? null,
    model_type: c.model_type ?? "",
    file_type: c.file_type ?? "",
    renderer: c.renderer || undefined,
    parser: c.parser || undefined,
    requires: c.requires || undefined,
    capabilities: c.capabilities?.length ? c.capabilities : undefined,
    context_length: c.context_length || undefined,
    embedding_length: c.embedding_length || undefined,
  };
}

async function newLayer(store: ModelStore, mediaType: string, data: string, say: (s: string) => void): Promise<Layer> {
  const digest = `sha256:${createHash("sha256").update(data).digest("hex")}`;
  const existed = await store.hasBlob(digest);
  await store.writeBlob(data);
  say(`${existed ? "using existing" : "creating new"} layer ${digest}`);
  return { mediaType, digest, size: Buffer.byteLength(data) };
}
