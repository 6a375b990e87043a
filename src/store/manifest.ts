// Docker v2 manifests as Ollama stores them (spec §7.2, §7.4).
import { goJson } from "./gojson.js";

export const MANIFEST_MEDIA_TYPE = "application/vnd.docker.distribution.manifest.v2+json";
export const CONFIG_MEDIA_TYPE = "application/vnd.docker.container.image.v1+json";

export const MEDIA_TYPE = {
  model: "application/vnd.ollama.image.model",
  projector: "application/vnd.ollama.image.projector",
  adapter: "application/vnd.ollama.image.adapter",
  template: "application/vnd.ollama.image.template",
  prompt: "application/vnd.ollama.image.prompt", // legacy alias of template
  system: "application/vnd.ollama.image.system",
  params: "application/vnd.ollama.image.params",
  messages: "application/vnd.ollama.image.messages",
  license: "application/vnd.ollama.image.license",
  embed: "application/vnd.ollama.image.embed", // obsolete
  draft: "application/vnd.ollama.image.draft",
  tensor: "application/vnd.ollama.image.tensor",
  json: "application/vnd.ollama.image.json",
} as const;

export interface Layer {
  mediaType: string;
  digest: string;
  size: number;
  from?: string;
  name?: string;
}

export interface Manifest {
  schemaVersion: number;
  mediaType: string;
  config: Layer;
  layers: Layer[];
}

/** A manifest for the given config blob and layers. */
export function buildManifest(config: Layer, layers: Layer[]): Manifest {
  return { schemaVersion: 2, mediaType: MANIFEST_MEDIA_TYPE, config, layers };
}

// Field order and omitempty of Go's Layer struct.
function layerForJson(l: Layer) {
  return { mediaType: l.mediaType, digest: l.digest, size: l.size, from: l.from || undefined, name: l.name || undefined };
}

/** The bytes Ollama writes for a locally created manifest: Go-JSON plus a newline. */
export function encodeManifest(m: Manifest): Buffer {
  const ordered = {
    schemaVersion: m.schemaVersion,
    mediaType: m.mediaType,
    config: layerForJson(m.config),
    layers: m.layers.map(layerForJson),
  };
  return Buffer.from(goJson(ordered) + "\n");
}

function asLayer(v: unknown, where: string): Layer {
  const o = v as Record<string, unknown> | null;
  if (!o || typeof o !== "object" || typeof o.digest !== "string" || typeof o.size !== "number")
    throw new Error(`invalid manifest: bad ${where}`);
  const l: Layer = { mediaType: typeof o.mediaType === "string" ? o.mediaType : "", digest: o.digest, size: o.size };
  if (typeof o.from === "string" && o.from) l.from = o.from;
  if (typeof o.name === "string" && o.name) l.name = o.name;
  return l;
}

/** Parses manifest bytes; throws on anything that is not a manifest with a config and a layer list. */
export function parseManifest(raw: Buffer | string): Manifest {
  const o = JSON.parse(raw.toString()) as Record<string, unknown> | null;
  if (!o || typeof o !== "object" || Array.isArray(o)) throw new Error("invalid manifest: not an object");
  const layers = o.layers ?? [];
  if (!Array.isArray(layers)) throw new Error("invalid manifest: layers is not a list");
  return {
    schemaVersion: typeof o.schemaVersion === "number" ? o.schemaVersion : 0,
    mediaType: typeof o.mediaType === "string" ? o.mediaType : "",
    config: asLayer(o.config, "config"),
    layers: layers.map((l, i) => asLayer(l, `layer ${i}`)),
  };
}

/** Every blob digest a manifest references (config first). */
export function manifestDigests(m: Manifest): string[] {
  return [m.config.digest, ...m.layers.map((l) => l.digest)];
}

/** Σ layer sizes + config size (spec §7.2). */
export function manifestSize(m: Manifest): number {
  return m.layers.reduce((n, l) => n + l.size, m.config.size);
}
