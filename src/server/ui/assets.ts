// The chat page's static files, read once into memory. tsc does not copy them into dist/, so they are
// found beside this module when it runs from src/, else under src/ of the package root.
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { dirname, extname, join } from "node:path";
import { fileURLToPath } from "node:url";

export interface Asset {
  body: Buffer;
  type: string;
  etag: string;
}

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".svg": "image/svg+xml",
};

/** Plain file names only: the route serves these names and nothing else, so no path can escape. */
const SAFE_NAME = /^[a-z0-9][a-z0-9-]*\.(html|css|js|svg)$/;

/** The folder holding index.html and its assets. */
export function staticDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const beside = join(here, "static");
  if (existsSync(join(beside, "index.html"))) return beside;
  // From dist/src/server/ui: climb to the package root (the folder with package.json).
  for (let dir = here; ; dir = dirname(dir)) {
    if (existsSync(join(dir, "package.json"))) return join(dir, "src/server/ui/static");
    if (dirname(dir) === dir) throw new Error(`chat page files not found from ${here}`);
  }
}

/** Every servable file in the static folder, keyed by name. */
export async function loadAssets(dir = staticDir()): Promise<Map<string, Asset>> {
  const assets = new Map<string, Asset>();
  for (const name of await readdir(dir)) {
    if (!SAFE_NAME.test(name)) continue;
    const body = await readFile(join(dir, name));
    const etag = `"${createHash("sha256").update(body).digest("base64url").slice(0, 22)}"`;
    assets.set(name, { body, type: TYPES[extname(name)]!, etag });
  }
  if (!assets.has("index.html")) throw new Error(`no index.html in ${dir}`);
  return assets;
}
