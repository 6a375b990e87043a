// The API keys a client may present: CORRAL_API_KEYS plus the lines of CORRAL_API_KEYS_FILE, the
// file re-read when it changes (checked on each request) or on reload() (SIGHUP). Only sha256
// digests are kept, and every check compares against all of them in constant time.
import { createHash, timingSafeEqual } from "node:crypto";
import { readFileSync, statSync } from "node:fs";

function digest(key: string): Buffer {
  return createHash("sha256").update(key, "utf8").digest();
}

/** Keys in a file: one a line, blank lines and `#` comments skipped. */
export function parseKeyFile(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== "" && !l.startsWith("#"));
}

export class ApiKeys {
  private readonly inline: Buffer[];
  private fromFile: Buffer[] = [];
  private stamp = "";

  /** Throws when the file cannot be read, so a misconfigured server does not start. */
  constructor(keys: string[], private readonly file?: string) {
    this.inline = keys.map(digest);
    if (file) this.load(true);
  }

  /** Auth is on when keys are given or a keys file is named (even an empty one: fail closed). */
  get enabled(): boolean {
    return this.inline.length > 0 || this.file !== undefined;
  }

  /** Re-reads the keys file now (SIGHUP). */
  reload(): void {
    if (this.file) this.load(false);
  }

  /** Whether `presented` is one of the keys. */
  check(presented: string): boolean {
    this.refreshIfChanged();
    const d = digest(presented);
    let ok = false;
    // No early exit: the time taken does not depend on which key (if any) matched.
    for (const k of [...this.inline, ...this.fromFile]) ok = timingSafeEqual(d, k) || ok;
    return ok;
  }

  private refreshIfChanged(): void {
    if (!this.file) return;
    let stamp: string;
    try {
      stamp = fileStamp(this.file);
    } catch {
      return; // gone or unreadable for a moment (an editor's save): keep the keys we have
    }
    if (stamp !== this.stamp) this.load(false);
  }

  private load(strict: boolean): void {
    const file = this.file!;
    try {
      const stamp = fileStamp(file);
      this.fromFile = parseKeyFile(readFileSync(file, "utf8")).map(digest);
      this.stamp = stamp;
    } catch (e) {
      const msg = `cannot read CORRAL_API_KEYS_FILE ${JSON.stringify(file)}: ${(e as Error).message}`;
      if (strict) throw new Error(msg);
      process.stderr.write(`warning: ${msg}; keeping the keys read before\n`);
    }
  }
}

function fileStamp(file: string): string {
  const st = statSync(file);
  return `${st.ino}:${st.size}:${st.mtimeMs}`;
}
