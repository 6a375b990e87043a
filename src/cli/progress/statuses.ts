// Turns the {status, digest, total, completed} stream of pull / push / create into progress
// lines: one bar per digest, one spinner per other status (the previous spinner stops).
import type { ProgressResponse } from "../../api/models.js";
import { Bar } from "./bar.js";
import type { Progress } from "./progress.js";
import type { Spinner } from "./spinner.js";

export type Transfer = "pull" | "push" | "create";

export function statusRenderer(progress: Progress, kind: Transfer): (r: ProgressResponse) => void {
  const bars = new Map<string, Bar>();
  let status: string | undefined;
  let spinner: Spinner | undefined;
  return (r) => {
    if (r.digest) {
      // A pull announces each layer with completed 0 before downloading it: no 0% bar for that.
      if (kind === "pull" && !r.completed) return;
      if (kind !== "create") spinner?.stop();
      let bar = bars.get(r.digest);
      if (!bar) {
        const short = r.digest.replace(/^sha256:/, "").trim().slice(0, 12);
        const message = kind === "pull" ? `pulling ${short}:` : r.status || `${kind === "push" ? "pushing" : "pulling"} ${short}...`;
        bar = new Bar(message, r.total ?? 0, r.completed ?? 0);
        bars.set(r.digest, bar);
        progress.add(bar);
      }
      bar.set(r.completed ?? 0);
    } else if (r.status !== status) {
      spinner?.stop();
      status = r.status;
      spinner = progress.spinner(r.status);
    }
  };
}
