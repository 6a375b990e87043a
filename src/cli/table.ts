// Borderless, left-aligned tables the way `ollama list`/`ps`/`show` print them: every cell padded
// to its column's width and followed by four spaces (the header's last cell by one), long cells
// wrapped at word boundaries.
import { displayWidth, padRight } from "./term.js";

const PADDING = "    ";

export interface TableOptions {
  header?: string[];
  /** Cells wider than this wrap at spaces (default 30, as Ollama's table writer). */
  maxColumnWidth?: number;
}

function wrap(text: string, limit: number): string[] {
  const out: string[] = [];
  for (const line of text.split("\n")) {
    if (displayWidth(line) <= limit) {
      out.push(line);
      continue;
    }
    let current = "";
    for (const word of line.split(/\s+/).filter(Boolean)) {
      if (current && displayWidth(current) + 1 + displayWidth(word) > limit) {
        out.push(current);
        current = word;
      } else {
        current = current ? `${current} ${word}` : word;
      }
    }
    out.push(current);
  }
  return out;
}

export function renderTable(rows: string[][], opts: TableOptions = {}): string {
  const limit = opts.maxColumnWidth ?? 30;
  const columns = Math.max(opts.header?.length ?? 0, ...rows.map((r) => r.length));
  const cells = rows.map((r) => Array.from({ length: columns }, (_, i) => wrap(r[i] ?? "", limit)));
  const widths = Array.from({ length: columns }, (_, i) =>
    Math.max(displayWidth(opts.header?.[i] ?? ""), ...cells.map((r) => Math.max(...r[i]!.map(displayWidth)))),
  );
  let out = "";
  if (opts.header) {
    out += widths.map((w, i) => padRight(opts.header![i] ?? "", w) + (i === columns - 1 ? " " : PADDING)).join("") + "\n";
  }
  for (const row of cells) {
    const height = Math.max(...row.map((c) => c.length));
    for (let line = 0; line < height; line++) {
      out += widths.map((w, i) => padRight(row[i]![line] ?? "", w) + PADDING).join("") + "\n";
    }
  }
  return out;
}
