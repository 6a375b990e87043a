// Every reference template renders every conversation of the shared conformance data byte for byte,
// through the package entry a library user imports.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { renderPrompt } from "corral";
import { SHARED } from "./support/server.js";

const DIR = join(SHARED, "conformance/templates");
// The reference outputs drop one trailing space for these (see the data's README).
const TRAILING_SPACE_QUIRK = new Set(["chatqa", "llama2-chat", "openchat", "vicuna"]);

const cases = JSON.parse(readFileSync(join(DIR, "cases.json"), "utf8")) as Record<string, { role: string; content: string }[]>;
const templates = readdirSync(DIR).filter((f) => f.endsWith(".gotmpl")).map((f) => f.slice(0, -".gotmpl".length));

test("the conformance data is there", () => {
  assert.ok(templates.length >= 12, templates.join(","));
  assert.ok(Object.keys(cases).length >= 3);
});

for (const name of templates) {
  test(`${name} renders every case as expected`, () => {
    const template = readFileSync(join(DIR, `${name}.gotmpl`), "utf8");
    for (const [caseName, messages] of Object.entries(cases)) {
      let out = renderPrompt(template, { messages });
      if (TRAILING_SPACE_QUIRK.has(name) && out.endsWith(" ")) out = out.slice(0, -1);
      assert.equal(out, readFileSync(join(DIR, "expected", name, caseName), "utf8"), `${name}/${caseName}`);
    }
  });
}
