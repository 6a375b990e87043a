// Pulling a model (spec §2.13, §8.2): the manifest, then each layer and the config one after another
// (each blob in parallel parts), then the manifest stored byte for byte once all its blobs are in place.
import type { ModelStore } from "../store/store.js";
import { MANIFEST_MEDIA_TYPE, manifestDigests, parseManifest, type Layer, type Manifest } from "../store/manifest.js";
import { digestHex } from "../store/blobs.js";
import type { ModelName } from "../store/name.js";
import { Repository, type RegistryOptions } from "./client.js";
import type { Downloads } from "./download.js";
import { readBody } from "./http.js";
import type { Progress } from "./progress.js";

const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";

/** Fetching or reading the manifest failed: the model could not be found (or reached) at all. */
export class ManifestError extends Error {
  constructor(cause: unknown) {
    super(`pull model manifest: ${(cause as Error)?.message ?? String(cause)}`, { cause });
    this.name = "ManifestError";
  }
}

export interface PullContext {
  store: ModelStore;
  downloads: Downloads;
  options: RegistryOptions;
  noPrune: boolean;
}

export interface PullOptions {
  insecure?: boolean;
  signal?: AbortSignal;
}

/** `http://` in a name is only honoured with `insecure` (Ollama's errInsecureProtocol). */
export function checkScheme(name: ModelName, insecure: boolean | undefined): void {
  if (name.scheme === "http" && !insecure) throw new Error("insecure protocol http");
}

async function fetchManifest(repo: Repository, tag: string, signal?: AbortSignal): Promise<{ raw: Buffer; manifest: Manifest }> {
  try {
    const res = await repo.request("GET", repo.url("manifests", tag), {
      headers: { Accept: `${MANIFEST_MEDIA_TYPE}, ${OCI_MANIFEST}` },
      signal,
    });
    const raw = await readBody(res);
    const manifest = parseManifest(raw);
    // Digests become file names: refuse a manifest with any that is not a sha256 digest.
    for (const d of manifestDigests(manifest)) if (!digestHex(d)) throw new Error(`invalid digest ${JSON.stringify(d)}`);
    return { raw, manifest };
  } catch (e) {
    if ((e as Error)?.name === "AbortError") throw e;
    throw new ManifestError(e);
  }
}

export async function pullModel(ctx: PullContext, name: ModelName, opts: PullOptions, progress: Progress): Promise<void> {
  checkScheme(name, opts.insecure);
  const previous = await ctx.store.readManifest(name).catch(() => undefined);

  progress({ status: "pulling manifest" });
  const repo = new Repository(name, Boolean(opts.insecure), ctx.options);
  const { raw, manifest } = await fetchManifest(repo, name.tag, opts.signal);

  const layers: Layer[] = [...manifest.layers];
  if (manifest.config.digest) layers.push(manifest.config);
  for (const layer of layers) await ctx.downloads.fetch(repo, layer, opts.signal, progress);

  // Every blob was checked against its digest before it was moved into place.
  progress({ status: "verifying sha256 digest" });
  progress({ status: "writing manifest" });
  await ctx.store.writeManifestRaw(name, raw);

  const kept = new Set(layers.map((l) => l.digest));
  const dropped = previous ? manifestDigests(previous.manifest).filter((d) => !kept.has(d)) : [];
  // The store removed them with the manifest write (those no other model uses).
  if (!ctx.noPrune && dropped.length > 0) progress({ status: "removing unused layers" });
  progress({ status: "success" });
}
