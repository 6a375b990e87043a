// Builds llama.cpp's own tools (llama-server, llama-bench, rpc-server) from the bundled source into
// the engine cache: clone the bundle, apply node-llama-cpp's patches, configure with cmake, build
// only the targets corral runs, and move the result into place with one rename. Nothing is
// downloaded: the source is in node_modules and the compilers are the machine's own.
import { spawn } from "node:child_process";
import { closeSync, openSync, readFileSync, writeFileSync } from "node:fs";
import { copyFile, mkdir, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import { buildKey, ENGINE_TOOLS, findBuild, machineFlavour, type EngineBuild, type EngineTool, type Flavour } from "./cache.js";
import { detectGpu } from "./gpu.js";
import { which } from "./which.js";
import { llamaSource } from "./source.js";

export interface BuildProgress {
  phase: "source" | "configure" | "compile" | "install";
  /** Build steps done and in all, during compile. */
  done?: number;
  total?: number;
}

export interface BuildOptions {
  cacheRoot: string;
  flavour?: Flavour;
  /** Parallel compile jobs. */
  jobs: number;
  onProgress?: (p: BuildProgress) => void;
}

/** The cmake target behind each tool. */
const TARGETS: Record<EngineTool, string> = {
  "llama-server": "llama-server",
  "llama-bench": "llama-bench",
  "rpc-server": "ggml-rpc-server",
};

/** Options of the CPU build; the CUDA build adds its backend. Keep them in the cache key's meaning. */
function cmakeOptions(flavour: Flavour): string[] {
  const opts = [
    "-DCMAKE_BUILD_TYPE=Release",
    // Static: the binaries stand alone, with no second copy of ggml to clash with node-llama-cpp's.
    "-DBUILD_SHARED_LIBS=OFF",
    // Tuned to this machine: the cache key carries its instruction set.
    "-DGGML_NATIVE=ON",
    "-DGGML_RPC=ON",
    "-DLLAMA_BUILD_TESTS=OFF",
    "-DLLAMA_BUILD_EXAMPLES=OFF",
    // The web UI would be fetched from the network; corral never serves it.
    "-DLLAMA_BUILD_UI=OFF",
    "-DLLAMA_USE_PREBUILT_UI=OFF",
    "-DLLAMA_OPENSSL=OFF",
  ];
  if (flavour === "cuda") opts.push("-DGGML_CUDA=ON", "-DCMAKE_CUDA_ARCHITECTURES=native");
  return opts;
}

function run(cmd: string, args: string[], cwd: string, onLine?: (line: string) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, stdio: ["ignore", "pipe", "pipe"] });
    let tail = "";
    let partial = "";
    const take = (d: Buffer) => {
      const text = d.toString();
      tail = (tail + text).slice(-4000);
      if (!onLine) return;
      const lines = (partial + text).split("\n");
      partial = lines.pop() ?? "";
      for (const l of lines) onLine(l);
    };
    child.stdout.on("data", take);
    child.stderr.on("data", take);
    child.on("error", (e) => reject(new Error(`${cmd}: ${e.message}`)));
    child.on("close", (code) =>
      code === 0 ? resolve() : reject(new Error(`${cmd} ${args.slice(0, 2).join(" ")} failed (exit ${code}):\n${tail.trim()}`)),
    );
  });
}

/** What a machine needs to build the engine, or why it cannot. */
export function buildPrerequisites(): string | undefined {
  for (const tool of ["git", "cmake"]) if (!which(tool)) return `${tool} is not installed`;
  if (!which("c++") && !which("g++") && !which("clang++")) return "no C++ compiler is installed";
  return undefined;
}

/** Holds a lock file for one build key, so two installs on one machine do not build the same thing twice. */
async function withLock<T>(path: string, fn: () => Promise<T>, waitFor: () => T | undefined): Promise<T> {
  for (;;) {
    try {
      const fd = openSync(path, "wx");
      writeFileSync(fd, String(process.pid));
      closeSync(fd);
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
      const pid = Number(readFileSync(path, "utf8").trim());
      let alive = false;
      try {
        alive = pid > 0 && process.kill(pid, 0);
      } catch {
        alive = false;
      }
      if (!alive) {
        await rm(path, { force: true });
        continue;
      }
      // Another process is building this very key: wait for its result.
      await new Promise((r) => setTimeout(r, 2000));
      const done = waitFor();
      if (done !== undefined) return done;
    }
  }
  try {
    return await fn();
  } finally {
    await rm(path, { force: true });
  }
}

/** Builds the engine for this machine unless the cache already holds it; returns the build. */
export async function buildEngine(opts: BuildOptions): Promise<EngineBuild> {
  const flavour = opts.flavour ?? machineFlavour();
  const existing = findBuild(opts.cacheRoot, flavour);
  if (existing) return existing;
  const missing = buildPrerequisites();
  if (missing) throw new Error(`cannot build llama.cpp: ${missing}`);
  await mkdir(opts.cacheRoot, { recursive: true });
  const key = buildKey(flavour);
  return withLock(
    join(opts.cacheRoot, `${key}.lock`),
    () => build(opts, flavour, key),
    () => findBuild(opts.cacheRoot, flavour),
  );
}

async function build(opts: BuildOptions, flavour: Flavour, key: string): Promise<EngineBuild> {
  const progress = opts.onProgress ?? (() => {});
  const source = llamaSource();
  const work = join(opts.cacheRoot, `${key}.partial`);
  const started = Date.now();
  await rm(work, { recursive: true, force: true });
  await mkdir(work, { recursive: true });
  try {
    progress({ phase: "source" });
    const src = join(work, "src");
    await run("git", ["clone", "--quiet", source.bundle, src], work);
    for (const patch of source.patches) await run("git", ["apply", patch], src);

    progress({ phase: "configure" });
    const out = join(work, "build");
    const generator = which("ninja") ? ["-G", "Ninja"] : [];
    await run("cmake", ["-S", src, "-B", out, ...generator, ...cmakeOptions(flavour)], work);

    progress({ phase: "compile", done: 0 });
    const targets = ENGINE_TOOLS.flatMap((t) => ["--target", TARGETS[t]]);
    await run("cmake", ["--build", out, "--parallel", String(Math.max(1, opts.jobs)), ...targets], work, (line) => {
      // Ninja prints [done/total]; make prints [ pct%].
      const n = /^\[\s*(\d+)\/(\d+)\]/.exec(line);
      if (n) return progress({ phase: "compile", done: Number(n[1]), total: Number(n[2]) });
      const pct = /^\[\s*(\d+)%\]/.exec(line);
      if (pct) progress({ phase: "compile", done: Number(pct[1]), total: 100 });
    });

    progress({ phase: "install" });
    await mkdir(join(work, "bin"), { recursive: true });
    for (const tool of ENGINE_TOOLS) await copyFile(join(out, "bin", TARGETS[tool]), join(work, "bin", tool));
    const stamp = {
      flavour,
      commit: source.commit,
      tag: source.tag,
      seconds: Math.round((Date.now() - started) / 1000),
      builtAt: new Date().toISOString(),
      gpu: detectGpu(),
    };
    writeFileSync(join(work, "build.json"), JSON.stringify(stamp, null, 2) + "\n");
    await rm(src, { recursive: true, force: true });
    await rm(out, { recursive: true, force: true });
    const dir = join(opts.cacheRoot, key);
    await rm(dir, { recursive: true, force: true });
    await rename(work, dir);
  } catch (e) {
    await rm(work, { recursive: true, force: true });
    throw e;
  }
  const done = findBuild(opts.cacheRoot, flavour);
  if (!done) throw new Error("the llama.cpp build finished but its binaries are missing");
  return done;
}
