// Runs the fuzz targets with fast-check: every input must succeed or fail with the target's own error;
// a case that takes longer than `caseTimeoutMs` counts as a hang.
import fc from "fast-check";
import { targets, type Target } from "./targets.js";

export interface TargetResult {
  name: string;
  cases: number;
  failed: boolean;
  /** The shrunk counterexample and its error, when failed. */
  counterexample?: string;
  error?: string;
  ms: number;
}

export interface FuzzOptions {
  cases: number;
  seed: number;
  caseTimeoutMs?: number;
}

async function runTarget<T>(t: Target<T>, opts: FuzzOptions): Promise<TargetResult> {
  const started = Date.now();
  const prop = fc.asyncProperty(t.arb, async (input) => {
    try {
      await t.run(input);
    } catch (e) {
      if (!t.expected(e)) throw e;
    }
  });
  const out = await fc.check(prop, { numRuns: opts.cases, seed: opts.seed, timeout: opts.caseTimeoutMs ?? 2000, endOnFailure: false });
  const r: TargetResult = { name: t.name, cases: out.numRuns, failed: out.failed, ms: Date.now() - started };
  if (out.failed) {
    r.counterexample = fc.stringify(out.counterexample);
    const err = out.errorInstance as Error | undefined;
    r.error = err ? `${err.name}: ${err.message}\n${err.stack?.split("\n").slice(1, 6).join("\n") ?? ""}` : "failed";
  }
  return r;
}

export async function runFuzz(opts: FuzzOptions, log: (line: string) => void = () => {}): Promise<TargetResult[]> {
  const results: TargetResult[] = [];
  for (const t of targets) {
    const r = await runTarget(t, opts);
    log(`${r.failed ? "FAIL" : "ok  "} ${r.name}: ${r.cases} cases in ${r.ms} ms`);
    if (r.failed) log(`     counterexample: ${r.counterexample}\n     ${r.error}`);
    results.push(r);
  }
  return results;
}
