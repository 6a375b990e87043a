// The registry client of one model store: its settings and its shared blob downloads. The server
// attaches one to its store at start; create's `from` pull finds it through the store it was given.
import { loadConfig, type Config } from "../config.js";
import type { ModelName } from "../store/name.js";
import type { ModelStore } from "../store/store.js";
import { VERSION } from "../version.js";
import type { RegistryOptions } from "./client.js";
import { Downloads, type DownloadTuning } from "./download.js";
import type { Progress } from "./progress.js";
import { pullModel, type PullOptions } from "./pull.js";
import type { RegistryObserver } from "./observer.js";
import { pushModel } from "./push.js";
import type { UploadTuning } from "./upload.js";

const GO_ARCH: Record<string, string> = { x64: "amd64", arm64: "arm64", ia32: "386" };

/** Ollama's user agent shape, so registries that look at it treat corral like the Ollama it imitates. */
const USER_AGENT = `ollama/${VERSION} (${GO_ARCH[process.arch] ?? process.arch} ${process.platform}) corral Node/${process.versions.node}`;

export interface RegistrySettings {
  authFile: string;
  insecureHosts: string[];
  noPrune: boolean;
  tuning?: DownloadTuning & UploadTuning;
  /** Told of the bytes pulls and pushes move (metrics). */
  observer?: RegistryObserver;
}

export function settingsFrom(config: Config): RegistrySettings {
  return { authFile: config.registryAuthFile, insecureHosts: config.insecureRegistries, noPrune: config.noPrune };
}

export class Registry {
  private readonly downloads: Downloads;
  private readonly options: RegistryOptions;

  constructor(
    private readonly store: ModelStore,
    private readonly settings: RegistrySettings,
  ) {
    this.downloads = new Downloads(store, settings.tuning, settings.observer);
    this.options = { authFile: settings.authFile, insecureHosts: settings.insecureHosts, userAgent: USER_AGENT };
  }

  pull(name: ModelName, opts: PullOptions, progress: Progress): Promise<void> {
    const ctx = { store: this.store, downloads: this.downloads, options: this.options, noPrune: this.settings.noPrune };
    return pullModel(ctx, name, opts, progress);
  }

  /** Partial downloads on disk, and whether a pull is running each. */
  partials() {
    return this.downloads.partials();
  }

  /** 404 when there is no such partial download, 409 while a pull downloads it. */
  removePartial(digest: string): Promise<void> {
    return this.downloads.removePartial(digest);
  }

  push(name: ModelName, opts: PullOptions, progress: Progress): Promise<void> {
    return pushModel({ store: this.store, options: this.options, tuning: this.settings.tuning, observer: this.settings.observer }, name, opts, progress);
  }
}

const registries = new WeakMap<ModelStore, Registry>();

export function attachRegistry(store: ModelStore, settings: RegistrySettings): Registry {
  const r = new Registry(store, settings);
  registries.set(store, r);
  return r;
}

/** The store's registry client; one from the environment's settings if none was attached. */
export function registryFor(store: ModelStore): Registry {
  return registries.get(store) ?? attachRegistry(store, settingsFrom(loadConfig()));
}
