// The interactive prompt's input history, kept in ~/.corral/history (one entry a line, oldest
// first, the last 100), so earlier sessions' inputs are a keypress away.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join } from "node:path";

export const HISTORY_LIMIT = 100;

export function historyPath(): string {
  return join(homedir(), ".corral", "history");
}

export function loadHistory(path: string): string[] {
  try {
    return readFileSync(path, "utf8")
      .split("\n")
      .map((l) => l.trim())
      .filter(Boolean)
      .slice(-HISTORY_LIMIT);
  } catch {
    return [];
  }
}

export function saveHistory(path: string, entries: string[]): void {
  try {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, entries.slice(-HISTORY_LIMIT).map((e) => `${e}\n`).join(""), { mode: 0o600 });
  } catch {
    // History is a convenience: an unwritable home must not break the session.
  }
}
