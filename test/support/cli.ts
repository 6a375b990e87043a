// Runs the real `corral` binary as a subprocess, the way a user's shell would (stdin and stdout
// are pipes here, so never terminals).
import { spawn } from "node:child_process";
import { join } from "node:path";
import { ROOT } from "./server.js";

export const CLI = join(ROOT, "dist/src/cli/main.js");

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  /** Text piped to stdin (closed right away when absent). */
  input?: string;
  env?: Record<string, string>;
  cwd?: string;
}

export function runCli(host: string, args: string[], opts: CliOptions = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [CLI, ...args], {
      cwd: opts.cwd,
      env: { ...process.env, OLLAMA_HOST: host, ...opts.env },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    proc.stdout.on("data", (d) => (stdout += d));
    proc.stderr.on("data", (d) => (stderr += d));
    proc.on("error", reject);
    proc.on("close", (code) => resolve({ code, stdout, stderr }));
    proc.stdin.end(opts.input ?? "");
  });
}
