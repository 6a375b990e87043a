// `npm run fuzz -- --cases N [--seed S]`: every fuzz target, N cases each; exits 1 on any failure.
import { runFuzz } from "./harness.js";

function flag(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const cases = Number(flag("cases") ?? 1000);
const seed = Number(flag("seed") ?? Date.now() % 2 ** 31);
if (!Number.isInteger(cases) || cases < 1 || !Number.isInteger(seed)) {
  process.stderr.write("usage: npm run fuzz -- --cases N [--seed S]\n");
  process.exit(2);
}
console.log(`fuzz: ${cases} cases per target, seed ${seed}`);
const started = Date.now();
const results = await runFuzz({ cases, seed }, (line) => console.log(line));
const failed = results.filter((r) => r.failed).length;
console.log(`fuzz: ${results.length} targets, ${failed} failed, ${((Date.now() - started) / 1000).toFixed(1)} s`);
process.exit(failed > 0 ? 1 : 0);
