// Pushing a model (spec §2.14, §8.3): every layer and the config, then the manifest, last, so the
// registry never holds a manifest whose blobs are missing. The manifest goes as stored, byte for byte,
// so its digest (the model's ID) is the same on both sides.
import type { Layer } from "../store/manifest.js";
import { MANIFEST_MEDIA_TYPE } from "../store/manifest.js";
import type { ModelName } from "../store/name.js";
import type { ModelStore } from "../store/store.js";
import { Repository, type RegistryOptions } from "./client.js";
import { discard } from "./http.js";
import type { RegistryObserver } from "./observer.js";
import type { Progress } from "./progress.js";
import { checkScheme, type PullOptions } from "./pull.js";
import { uploadBlob, type UploadTuning } from "./upload.js";

export interface PushContext {
  store: ModelStore;
  options: RegistryOptions;
  tuning?: UploadTuning;
  observer?: RegistryObserver;
}

export async function pushModel(ctx: PushContext, name: ModelName, opts: PullOptions, progress: Progress): Promise<void> {
  progress({ status: "retrieving manifest" });
  checkScheme(name, opts.insecure);
  const stored = await ctx.store.readManifest(name);
  if (!stored) {
    progress({ status: "couldn't retrieve manifest" });
    throw new Error(`open ${ctx.store.manifestFile(name)}: no such file or directory`);
  }
  // The local spelling of the name, the scheme as asked.
  const target: ModelName = { ...stored.name, ...(name.scheme ? { scheme: name.scheme } : {}) };
  const repo = new Repository(target, Boolean(opts.insecure), ctx.options);

  const layers: Layer[] = [...stored.manifest.layers];
  if (stored.manifest.config.digest) layers.push(stored.manifest.config);
  for (const layer of layers) await uploadBlob(repo, ctx.store, layer, { signal: opts.signal, tuning: ctx.tuning, observer: ctx.observer }, progress);

  progress({ status: "pushing manifest" });
  const res = await repo.request("PUT", repo.url("manifests", target.tag), {
    headers: { "Content-Type": stored.manifest.mediaType || MANIFEST_MEDIA_TYPE },
    body: stored.raw,
    signal: opts.signal,
  });
  discard(res);
  progress({ status: "success" });
}
