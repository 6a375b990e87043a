// `corral push` / `pull` through a real registry (docker-registry on loopback): the per-layer
// progress as plain lines when stderr is a pipe, and as Ollama's redrawn bars in a terminal.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CLI, runCli, type CliResult } from "./support/cli.js";
import { startRegistry, type TestRegistry } from "./support/registry.js";
import { createFromGguf, startTestServer, STORIES, type TestServer } from "./support/server.js";
import { Terminal } from "./support/tmux.js";

let srv: TestServer;
let registry: TestRegistry;
let home: string;
const terminals: Terminal[] = [];

before(async () => {
  srv = await startTestServer();
  registry = await startRegistry();
  home = await mkdtemp(join(tmpdir(), "corral-progress-home-"));
  await createFromGguf(srv.url, "stories", STORIES);
});
after(async () => {
  for (const t of terminals) await t.stop();
  await srv.stop();
  await registry.kill();
  await rm(home, { recursive: true, force: true });
});

const cli = (...args: string[]) => runCli(`127.0.0.1:${srv.port}`, args, { env: { HOME: home } });

function ok(r: CliResult): CliResult {
  assert.equal(r.code, 0, JSON.stringify(r));
  assert.ok(!r.stdout.includes("\x1b") && !r.stderr.includes("\x1b"), JSON.stringify(r));
  return r;
}

test("push and pull print each step once, a finished line per layer, when stderr is not a terminal", async () => {
  const name = `${registry.host}/cli/stories:v1`;
  ok(await cli("cp", "stories", name));
  const push = ok(await cli("push", name, "--insecure"));
  assert.equal(push.stdout, `\nYou can find your model at:\n\n\t${name}\n`);
  assert.match(push.stderr, /^pushing [0-9a-f]{12} 100% 1\.2 MB$/m);
  assert.equal(push.stderr.trimEnd().split("\n").at(-1), "success");
  assert.equal(new Set(push.stderr.trimEnd().split("\n")).size, push.stderr.trimEnd().split("\n").length, push.stderr);

  ok(await cli("rm", name));
  const pull = ok(await cli("pull", name, "--insecure"));
  assert.equal(pull.stdout, "");
  const lines = pull.stderr.trimEnd().split("\n");
  assert.equal(lines[0], "pulling manifest");
  assert.ok(lines.includes("pulling 270cba1bd510: 100% 1.2 MB"), pull.stderr);
  assert.equal(lines.at(-1), "success");
  assert.match(ok(await cli("list", registry.host)).stdout, new RegExp(`^${registry.host}/cli/stories:v1 `, "m"));
});

test("in a terminal, pull draws Ollama's bars and spinners in place", async () => {
  const name = `${registry.host}/cli/stories:v2`;
  ok(await cli("cp", "stories", name));
  ok(await cli("push", name, "--insecure"));
  ok(await cli("rm", name));
  const t = await Terminal.start([process.execPath, CLI, "pull", name, "--insecure"], {
    OLLAMA_HOST: `127.0.0.1:${srv.port}`,
    HOME: home,
  });
  terminals.push(t);
  const screen = await t.waitFor(/\[exited 0\]$/);
  assert.match(screen, /^pulling manifest\s*$/m);
  assert.match(screen, /^pulling 270cba1bd510: 100% ▕█+▏ 1\.2 MB\s*$/m);
  assert.match(screen, /^success\s*\n\[exited 0\]$/m);
  // Redrawn in place: each step appears once on the final screen.
  assert.equal(screen.match(/pulling 270cba1bd510/g)?.length, 1, screen);
});
