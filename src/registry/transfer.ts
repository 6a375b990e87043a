// What pulls and pushes share about moving a blob: how it is cut into parts (spec §8.2: total/16,
// clamped to [100 MB, 1000 MB]) and how failed attempts are retried.
export const PARTS = 16;
const MIN_PART = 100_000_000;
const MAX_PART = 1_000_000_000;

/** Part sizes that add up to `total`; `partSize` overrides the rule (tests and benchmarks). */
export function partSizes(total: number, partSize?: number): number[] {
  const size = partSize ?? Math.min(MAX_PART, Math.max(MIN_PART, Math.floor(total / PARTS)));
  const sizes: number[] = [];
  for (let offset = 0; offset < total; offset += size) sizes.push(Math.min(size, total - offset));
  return sizes;
}

/** Sleeps, or rejects when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const t = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal!.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** Attempts per part before a transfer fails (Ollama: 6), waiting 1 s, 2 s, 4 s, … between them. */
export const RETRIES = 6;
export const BACKOFF_MS = 1000;

/** A 4xx answer will not change on retry; transport errors and 5xx may. */
export function isPermanent(e: unknown): boolean {
  const status = (e as { status?: number })?.status;
  const code = (e as NodeJS.ErrnoException)?.code;
  return (status !== undefined && status >= 400 && status < 500) || ["ENOSPC", "EROFS", "EACCES", "EDQUOT"].includes(code ?? "");
}
