// The --verbose / `/set verbose` statistics block printed after a response (on stderr).
import type { Metrics } from "../../api/inference.js";
import { goDuration } from "../format.js";

export function statsSummary(m: Metrics): string {
  const lines: string[] = [];
  const rate = (count = 0, ns = 0) => `${(count / (ns / 1e9)).toFixed(2)} tokens/s`;
  if (m.total_duration) lines.push(`total duration:       ${goDuration(m.total_duration)}`);
  if (m.load_duration) lines.push(`load duration:        ${goDuration(m.load_duration)}`);
  if (m.prompt_eval_count) lines.push(`prompt eval count:    ${m.prompt_eval_count} token(s)`);
  if (m.prompt_eval_duration) {
    lines.push(`prompt eval duration: ${goDuration(m.prompt_eval_duration)}`);
    lines.push(`prompt eval rate:     ${rate(m.prompt_eval_count, m.prompt_eval_duration)}`);
  }
  if (m.eval_count) lines.push(`eval count:           ${m.eval_count} token(s)`);
  if (m.eval_duration) {
    lines.push(`eval duration:        ${goDuration(m.eval_duration)}`);
    lines.push(`eval rate:            ${rate(m.eval_count, m.eval_duration)}`);
  }
  return lines.map((l) => `${l}\n`).join("");
}
