// Progress lines for one blob being pulled or pushed: `pulling 6a0746a1ec1a` with total and
// completed, sent about every 60 ms while the numbers move (spec §2.13), `completed` omitted while 0.
import type { ProgressResponse } from "../api/models.js";

export type Progress = (p: ProgressResponse) => void;

const TICK_MS = 60;

/** `pulling 6a0746a1ec1a` / `pushing …`: the verb and the digest's first 12 hex characters. */
export function layerStatus(verb: string, digest: string): string {
  return `${verb} ${digest.slice(7, 19)}`;
}

export function layerLine(verb: string, digest: string, total: number, completed: number): ProgressResponse {
  const p: ProgressResponse = { status: layerStatus(verb, digest), digest, total };
  if (completed > 0) p.completed = completed;
  return p;
}

/** Reports `read()` every tick while it changes, until stopped; `stop(true)` sends the final numbers once more if they moved. */
export function ticker(verb: string, digest: string, progress: Progress, read: () => { total: number; completed: number }) {
  let last = "";
  const emit = () => {
    const { total, completed } = read();
    const key = `${total}/${completed}`;
    if (total <= 0 || key === last) return;
    last = key;
    progress(layerLine(verb, digest, total, completed));
  };
  emit();
  const timer = setInterval(emit, TICK_MS);
  return {
    stop(final: boolean) {
      clearInterval(timer);
      if (final) emit();
    },
  };
}
