import { test } from "node:test";
import assert from "node:assert/strict";
import { displayShortest, fullName, isValidName, parseModelName, sameName } from "../src/store/name.js";

const parts = (s: string) => {
  const n = parseModelName(s);
  return n && [n.host, n.namespace, n.model, n.tag, n.scheme];
};

test("valid names fill defaults (spec §6.1)", () => {
  assert.deepEqual(parts("llama3.2"), ["registry.ollama.ai", "library", "llama3.2", "latest", undefined]);
  assert.deepEqual(parts("  llama3.2:1b \n"), ["registry.ollama.ai", "library", "llama3.2", "1b", undefined]);
  assert.deepEqual(parts("user/model:Q4_K_M"), ["registry.ollama.ai", "user", "model", "Q4_K_M", undefined]);
  assert.deepEqual(parts("host:5000/ns/model:tag"), ["host:5000", "ns", "model", "tag", undefined]);
  assert.deepEqual(parts("example.com/ns/m"), ["example.com", "ns", "m", "latest", undefined]);
  assert.deepEqual(parts("https://example.com/ns/m:1.0"), ["example.com", "ns", "m", "1.0", "https"]);
  assert.deepEqual(parts("http://localhost:8080/a/b"), ["localhost:8080", "a", "b", "latest", "http"]);
  assert.deepEqual(parts("registry.ollama.ai/library/llama3:latest"), ["registry.ollama.ai", "library", "llama3", "latest", undefined]);
  assert.deepEqual(parts("_x/y-z_1.2:v-1_.x"), ["registry.ollama.ai", "_x", "y-z_1.2", "v-1_.x", undefined]);
  assert.deepEqual(parts("LLAMA3.2:LATEST"), ["registry.ollama.ai", "library", "LLAMA3.2", "LATEST", undefined]);
  // Upstream oddity: an empty host after "scheme://" is not "missing", so the default fills it.
  assert.deepEqual(parts("http:///ns/m"), ["registry.ollama.ai", "ns", "m", "latest", "http"]);
  assert.ok(parseModelName("h".repeat(350) + "/n/m"));
  assert.ok(parseModelName("n".repeat(80) + "/" + "m".repeat(80) + ":" + "t".repeat(80)));
});

test("invalid names (spec §6.1 oddities, §6.2 rules, path safety)", () => {
  const bad = [
    "", "   ", "../x", "..", ".", "x/..", "../../etc/passwd", "/etc/passwd", "/abs", "a/b/c/d", "host:5000/model",
    "model:", ":tag", ":", "/", "model@sha256:" + "a".repeat(64), "m@latest", "ns.x/model", "a//b", ".hidden",
    "-x", "m:..", "m:.t", "m:-t", "m:t/x", "ns/m:t:t2", "a b", "héllo", "m\0x", "ns\\m", "m".repeat(81),
    "m:" + "t".repeat(81), "n".repeat(81) + "/m", "h".repeat(351) + "/n/m", "ftp:/host/ns/m",
    "/ns/m", "h//m", "host/ns/", "C:\\models\\x",
  ];
  for (const s of bad) assert.equal(parseModelName(s), undefined, JSON.stringify(s));
});

test("no valid name yields a dangerous path part", () => {
  const alphabet = ["a", "B", "1", "_", "-", ".", "..", "/", ":", "://", "@", "\\", " ", "é"];
  let seed = 42;
  const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
  for (let i = 0; i < 20000; i++) {
    let s = "";
    for (let j = rnd(12); j >= 0; j--) s += alphabet[rnd(alphabet.length)];
    const n = parseModelName(s);
    if (!n) continue;
    for (const p of [n.host, n.namespace, n.model, n.tag]) {
      assert.ok(p !== "." && p !== ".." && !p.includes("/") && !p.includes("\\") && !p.startsWith("."), `${s} -> ${p}`);
    }
  }
});

test("display forms (spec §6.3)", () => {
  const d = (s: string) => displayShortest(parseModelName(s)!);
  assert.equal(d("llama3.2"), "llama3.2:latest");
  assert.equal(d("user/m"), "user/m:latest");
  assert.equal(d("host:5000/ns/m:t"), "host:5000/ns/m:t");
  assert.equal(d("example.com/library/m"), "example.com/library/m:latest");
  assert.equal(d("REGISTRY.OLLAMA.AI/LIBRARY/m:T"), "m:T");
  assert.equal(d("https://registry.ollama.ai/me/m"), "me/m:latest");
  assert.equal(fullName(parseModelName("llama3.2")!), "registry.ollama.ai/library/llama3.2:latest");
  assert.equal(fullName(parseModelName("https://h.io/ns/m:t")!), "h.io/ns/m:t");
});

test("helpers", () => {
  assert.ok(sameName(parseModelName("LLAMA3.2:Latest")!, parseModelName("llama3.2")!));
  assert.ok(!sameName(parseModelName("a:b")!, parseModelName("a:c")!));
  assert.ok(!isValidName({ host: "..", namespace: "library", model: "m", tag: "latest" }));
  assert.ok(!isValidName({ host: "h", namespace: "library", model: "a/b", tag: "latest" }));
});
