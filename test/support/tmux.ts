// Drives an interactive program in a real pseudo-terminal: a private tmux server (its own socket,
// so nothing else's sessions are touched), keys sent with send-keys, the screen read with
// capture-pane.
import { execFile } from "node:child_process";
import { promisify } from "node:util";

const exec = promisify(execFile);

const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

export class Terminal {
  private constructor(private readonly socket: string) {}

  /** Starts `argv` with `env` in a `width`x`height` terminal; "[exited N]" appears when it ends. */
  static async start(argv: string[], env: Record<string, string>, size = { width: 100, height: 40 }): Promise<Terminal> {
    const socket = `corral-test-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
    const vars = Object.entries(env).map(([k, v]) => `${k}=${quote(v)}`).join(" ");
    const command = `env ${vars} ${argv.map(quote).join(" ")}; echo "[exited $?]"; sleep 3600`;
    await exec("tmux", ["-L", socket, "-f", "/dev/null", "new-session", "-d", "-s", "main",
      "-x", String(size.width), "-y", String(size.height), command]);
    return new Terminal(socket);
  }

  private tmux(...args: string[]) {
    return exec("tmux", ["-L", this.socket, ...args]);
  }

  /** Types literal text (no key names are interpreted). */
  async type(text: string): Promise<void> {
    await this.tmux("send-keys", "-t", "main", "-l", text);
  }

  /** Presses keys by tmux name: Enter, C-c, C-d, ... */
  async press(...keys: string[]): Promise<void> {
    await this.tmux("send-keys", "-t", "main", ...keys);
  }

  /** Pastes text the way a terminal does for a program that asked for bracketed paste. */
  async paste(text: string): Promise<void> {
    await this.tmux("set-buffer", "--", text);
    await this.tmux("paste-buffer", "-p", "-d", "-t", "main");
  }

  /** Types a line and presses Enter. */
  async line(text: string): Promise<void> {
    await this.type(text);
    await this.press("Enter");
  }

  /** The screen and its scrollback, wrapped lines joined, trailing spaces trimmed. */
  async screen(): Promise<string> {
    const { stdout } = await this.tmux("capture-pane", "-p", "-J", "-S", "-2000", "-t", "main");
    return stdout.split("\n").map((l) => l.trimEnd()).join("\n").trimEnd();
  }

  /** Waits until the screen satisfies `ready` (a regex or predicate), returning it; fails after `ms`. */
  async waitFor(ready: RegExp | ((screen: string) => boolean), ms = 90_000): Promise<string> {
    const test = typeof ready === "function" ? ready : (s: string) => ready.test(s);
    const deadline = Date.now() + ms;
    let screen = "";
    while (Date.now() < deadline) {
      screen = await this.screen();
      if (test(screen)) return screen;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`terminal never showed ${ready}; screen:\n${screen}`);
  }

  async stop(): Promise<void> {
    await this.tmux("kill-server").catch(() => undefined);
  }
}
