// The local files the CLI reads for the server: a Modelfile's FROM / ADAPTER paths (expansion,
// model directories, symlink escapes, request names) and image paths in a prompt.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expandPath, fileDigest, localModelFiles, pathResolver, requestFileNames } from "../src/cli/create/files.js";
import { extractAttachments, extractFileNames, normalizeFilePath } from "../src/cli/run/attachments.js";

let dir: string;
const GGUF = Buffer.concat([Buffer.from("GGUF"), Buffer.from([3, 0, 0, 0, 0, 0, 0, 0])]);
const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]);

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "corral-cli-files-"));
});
after(() => rm(dir, { recursive: true, force: true }));

test("paths are absolute, home-relative, or relative to the Modelfile's folder", async () => {
  const home = process.env.HOME;
  process.env.HOME = "/home/someone";
  try {
    assert.equal(await expandPath("~/models/x.gguf", "/work"), "/home/someone/models/x.gguf");
    assert.equal(await expandPath("~", "/work"), "/home/someone");
  } finally {
    process.env.HOME = home;
  }
  assert.equal(await expandPath("~root/x.gguf", "/work"), "/root/x.gguf");
  await assert.rejects(expandPath("~no_such_user_here/x", "/work"), /failed to find user 'no_such_user_here'/);
  assert.equal(await expandPath("/abs/x.gguf", "/work"), "/abs/x.gguf");
  assert.equal(await expandPath("./sub/../x.gguf", "/work/mf"), "/work/mf/x.gguf");
  assert.equal(await expandPath("x.gguf", "/work/mf"), "/work/mf/x.gguf");
});

test("a file is itself; a missing path is nothing (FROM then names a model)", async () => {
  const f = join(dir, "single.gguf");
  await writeFile(f, GGUF);
  assert.deepEqual(await localModelFiles(f), [f]);
  assert.equal(await localModelFiles(join(dir, "nope")), undefined);
  const resolve = pathResolver(dir);
  assert.deepEqual(await resolve("from", "single.gguf"), { [f]: await fileDigest(f) });
  assert.equal(await resolve("from", "llama3.2"), undefined);
  await assert.rejects(resolve("adapter", "missing.gguf"), new RegExp(`stat ${join(dir, "missing.gguf")}: no such file or directory`));
});

test("a model directory gives its weights and config files, nested ones keeping their folder", async () => {
  const m = join(dir, "hf");
  await mkdir(join(m, "1_Pooling"), { recursive: true });
  await writeFile(join(m, "model.safetensors"), Buffer.from([8, 0, 0, 0, 0, 0, 0, 0, 0x7b, 0x7d]));
  await writeFile(join(m, "config.json"), "{}");
  await writeFile(join(m, "tokenizer.json"), "{}");
  await writeFile(join(m, "1_Pooling", "config.json"), "{}");
  await writeFile(join(m, "README.md"), "# not a model file");
  const files = await localModelFiles(m);
  assert.deepEqual(files, [
    join(m, "model.safetensors"),
    join(m, "config.json"),
    join(m, "tokenizer.json"),
    join(m, "1_Pooling", "config.json"),
  ]);
  assert.deepEqual([...requestFileNames(files!).values()], ["model.safetensors", "config.json", "tokenizer.json", "1_Pooling/config.json"]);
  assert.deepEqual([...requestFileNames([join(m, "config.json")]).values()], ["config.json"]);
});

test("GGUF directories work; text posing as weights and symlinks out of the folder do not", async () => {
  const g = join(dir, "gguf-dir");
  await mkdir(g);
  await writeFile(join(g, "a.gguf"), GGUF);
  assert.deepEqual(await localModelFiles(g), [join(g, "a.gguf")]);

  const lfs = join(dir, "lfs-pointer");
  await mkdir(lfs);
  await writeFile(join(lfs, "model.gguf"), "version https://git-lfs.github.com/spec/v1\noid sha256:abc\nsize 12\n");
  await assert.rejects(localModelFiles(lfs), /no Modelfile or safetensors files found/);

  const outside = join(dir, "outside.gguf");
  await writeFile(outside, GGUF);
  const escape = join(dir, "escape");
  await mkdir(escape);
  await symlink(outside, join(escape, "model.gguf"));
  await assert.rejects(localModelFiles(escape), /^Error: insecure path: \.\.\/outside\.gguf$/);
});

test("image paths in a prompt are found, unescaped, attached and removed from the text", async () => {
  assert.deepEqual(extractFileNames("look at /tmp/a.png and ./b c.JPG or C:\\x.webp"), ["/tmp/a.png", "./b c.JPG", "C:\\x.webp"]);
  assert.equal(normalizeFilePath("/my\\ pics/\\(1\\).png"), "/my pics/(1).png");

  const img = join(dir, "cat picture.png");
  await writeFile(img, PNG);
  const log: string[] = [];
  const escaped = img.replace(/ /g, "\\ ");
  const { text, images } = await extractAttachments(`what is in ${escaped} ?`, (l) => log.push(l));
  assert.equal(text, "what is in  ?");
  assert.deepEqual(images, [PNG.toString("base64")]);
  assert.deepEqual(log, [`Added image '${img}'`]);

  const missing = await extractAttachments("describe /no/such/file.png", (l) => log.push(l));
  assert.deepEqual(missing, { text: "describe /no/such/file.png", images: [] });

  const notImage = join(dir, "notes.png");
  await writeFile(notImage, "just text");
  await assert.rejects(extractAttachments(`see ${notImage}`, (l) => log.push(l)), /invalid file type: text\/plain; charset=utf-8/);
  assert.equal(log.at(-1), `Couldn't process file: "invalid file type: text/plain; charset=utf-8"`);
});
