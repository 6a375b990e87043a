// A stored model read back from its manifest: the GGUF path, template, system, parameters,
// messages, licenses and adapters its layers carry.
import type { Message } from "../api/inference.js";
import { MEDIA_TYPE, type Layer } from "./manifest.js";
import { displayShortest, fullName, type ModelName } from "./name.js";
import type { ModelStore, StoredManifest } from "./store.js";

/** The config blob (Go ConfigV2), keys in Go's declaration order. */
export interface ModelConfig {
  model_format?: string;
  model_family?: string;
  model_families?: string[] | null;
  model_type?: string;
  file_type?: string;
  renderer?: string;
  parser?: string;
  requires?: string;
  capabilities?: string[];
  context_length?: number;
  embedding_length?: number;
  architecture?: string;
  os?: string;
}

export interface StoredModel {
  name: ModelName;
  shortName: string;
  fullName: string;
  stored: StoredManifest;
  config: ModelConfig;
  modelLayer?: Layer;
  modelPath?: string;
  /** `from` of the model layer: what the model was derived from. */
  parentModel: string;
  adapterPaths: string[];
  projectorPaths: string[];
  /** The DRAFT model for speculative decoding. */
  draftPath?: string;
  template?: string;
  system?: string;
  params: Record<string, unknown>;
  messages: Message[];
  licenses: string[];
}

function parseJsonBlob<T>(raw: Buffer, what: string): T {
  try {
    return JSON.parse(raw.toString("utf8")) as T;
  } catch {
    throw new Error(`invalid ${what} layer`);
  }
}

export async function readModel(store: ModelStore, name: ModelName): Promise<StoredModel | undefined> {
  const stored = await store.readManifest(name);
  if (!stored) return undefined;
  const m = stored.manifest;
  const text = async (l: Layer) => (await store.readBlob(l.digest)).toString("utf8");
  const model: StoredModel = {
    name: stored.name,
    shortName: displayShortest(stored.name),
    fullName: fullName(stored.name),
    stored,
    config: m.config.digest ? parseJsonBlob<ModelConfig>(await store.readBlob(m.config.digest), "config") : {},
    parentModel: "",
    adapterPaths: [],
    projectorPaths: [],
    params: {},
    messages: [],
    licenses: [],
  };
  for (const layer of m.layers) {
    switch (layer.mediaType) {
      case MEDIA_TYPE.model:
        model.modelLayer = layer;
        model.modelPath = await store.blobFile(layer.digest);
        model.parentModel = layer.from ?? "";
        break;
      case MEDIA_TYPE.adapter:
        model.adapterPaths.push(await store.blobFile(layer.digest));
        break;
      case MEDIA_TYPE.projector:
        model.projectorPaths.push(await store.blobFile(layer.digest));
        break;
      case MEDIA_TYPE.draft:
        model.draftPath = await store.blobFile(layer.digest);
        break;
      case MEDIA_TYPE.template:
      case MEDIA_TYPE.prompt:
        model.template = await text(layer);
        break;
      case MEDIA_TYPE.system:
        model.system = await text(layer);
        break;
      case MEDIA_TYPE.params:
        model.params = parseJsonBlob(await store.readBlob(layer.digest), "params");
        break;
      case MEDIA_TYPE.messages:
        model.messages = parseJsonBlob(await store.readBlob(layer.digest), "messages");
        break;
      case MEDIA_TYPE.license:
        model.licenses.push(await text(layer));
        break;
    }
  }
  return model;
}
