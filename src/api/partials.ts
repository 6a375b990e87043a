// Partial downloads (/api/partials): what a listing says of each. A corral extension; Ollama has none.

/** One unfinished blob download, as `GET /api/partials` lists it. */
export interface PartialDownload {
  /** The model whose pull started it ("" when unknown, e.g. left by another program). */
  name: string;
  /** `sha256:<hex>` of the blob being downloaded. */
  digest: string;
  /** Bytes of the blob. */
  total: number;
  /** Bytes already downloaded and recorded: what a resumed pull will not fetch again. */
  completed: number;
  modified_at: string;
  /** A pull is downloading it right now (it cannot be removed meanwhile). */
  downloading: boolean;
}

export interface PartialsResponse {
  partials: PartialDownload[];
}
