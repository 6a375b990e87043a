// The fuzz harness on a fixed sample (300 cases per target, seed 42), so CI runs every target.
import { test } from "node:test";
import assert from "node:assert/strict";
import { runFuzz } from "./fuzz/harness.js";
import { targets } from "./fuzz/targets.js";

test("every fuzz target holds on 300 fixed-seed cases", async () => {
  const results = await runFuzz({ cases: 300, seed: 42 });
  assert.equal(results.length, targets.length);
  for (const r of results) {
    assert.equal(r.failed, false, `${r.name}: ${r.counterexample}\n${r.error}`);
    assert.ok(r.cases >= 300, `${r.name} ran ${r.cases} cases`);
  }
});

test("the harness reports a target that crashes, with its counterexample", async () => {
  // A parser that throws a TypeError on some input must be caught, not pass as a refusal.
  const { default: fc } = await import("fast-check");
  targets.push({ name: "planted crash", arb: fc.nat(100), run: (n: number) => { if (n > 50) (undefined as unknown as { x: number }).x; }, expected: () => false });
  try {
    const r = (await runFuzz({ cases: 200, seed: 42 })).at(-1)!;
    assert.equal(r.failed, true);
    assert.match(r.error ?? "", /TypeError/);
    assert.equal(r.counterexample, "[51]");
  } finally {
    targets.pop();
  }
});
