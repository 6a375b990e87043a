// Which process a temp file or scratch directory belongs to, so a later start can tell the leftovers
// of a dead process from the files of a live one. The tag is `<pid>-<boot>`: the boot token tells a
// reused pid (a restarted container is often pid 1 again) from this process itself.
import { randomBytes } from "node:crypto";

const BOOT = randomBytes(4).toString("hex");

/** This process's owner tag, as written into temp file and scratch directory names. */
export const OWNER = `${process.pid}-${BOOT}`;

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: it exists, it is just someone else's.
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Whether the process that made a file is gone. `pid` and `boot` come from the file's name; a name
 * without a boot token (older temp files) only has its pid checked.
 */
export function ownerIsGone(pid: number, boot?: string): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  if (pid === process.pid) return boot !== BOOT;
  return !pidAlive(pid);
}
