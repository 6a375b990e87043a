// Where a program is on PATH, as a shell would find it.
import { existsSync } from "node:fs";
import { delimiter, join } from "node:path";

export function which(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    if (dir && existsSync(join(dir, name))) return join(dir, name);
  }
  return undefined;
}
