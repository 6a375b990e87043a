// One progress line for an engine build: redrawn in place on a terminal, printed every tenth of
// the way (and at each phase) otherwise, so a log shows the build moving without flooding.
import type { BuildProgress } from "./build.js";

export function buildReporter(label: string, stream: NodeJS.WriteStream = process.stderr): {
  onProgress: (p: BuildProgress) => void;
  end: (message: string) => void;
} {
  const tty = stream.isTTY === true;
  let lastPhase = "";
  let lastTenth = -1;
  const write = (text: string) => stream.write(tty ? `\r\x1b[K${text}` : `${text}\n`);
  return {
    onProgress(p) {
      const phase = { source: "unpacking source", configure: "configuring", compile: "compiling", install: "installing" }[p.phase];
      if (p.phase === "compile" && p.total) {
        const pct = Math.floor((100 * (p.done ?? 0)) / p.total);
        const tenth = Math.floor(pct / 10);
        if (!tty && tenth === lastTenth) return;
        lastTenth = tenth;
        write(`${label}: ${phase} ${p.done}/${p.total} (${pct}%)`);
      } else if (p.phase !== lastPhase) write(`${label}: ${phase}`);
      lastPhase = p.phase;
    },
    end(message) {
      write(`${label}: ${message}`);
      if (tty) stream.write("\n");
    },
  };
}
