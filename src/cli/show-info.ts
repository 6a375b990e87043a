// The `show MODEL` info view (also `/show info` in `run`): sections introduced by two spaces and
// a title, rows in borderless tables, a blank line after each.
import type { ShowInfo } from "./client.js";
import { goValue, humanNumber } from "./format.js";
import { renderTable } from "./table.js";
import { displayWidth } from "./term.js";

type Rows = string[][];

function section(title: string, rows: Rows, maxColumnWidth?: number): string {
  return `  ${title}\n${renderTable(rows, { maxColumnWidth })}\n`;
}

const num = (v: unknown): number | undefined => (typeof v === "number" ? v : undefined);

/** A metadata value; arrays show what fits in about ten columns, then "...+N more". */
function metadataValue(v: unknown): string {
  if (typeof v === "boolean" || typeof v === "string" || typeof v === "number") return goValue(v);
  if (Array.isArray(v)) {
    let width = 1;
    let shown = 0;
    for (const [i, item] of v.entries()) {
      const w = displayWidth(goValue(item)) + (i > 0 ? 2 : 0);
      if (width + w > 10 && i > 0) break;
      width += w;
      shown++;
    }
    if (shown < v.length) return `${goValue(v.slice(0, shown)).slice(0, -1)} ...+${v.length - shown} more]`;
    return goValue(v);
  }
  if (v === null || v === undefined) return "<nil>";
  return "map[string]interface {}";
}

function modelRows(resp: ShowInfo): Rows {
  const rows: Rows = [];
  if (resp.remote_host) {
    rows.push(["", "Remote model", resp.remote_model ?? ""], ["", "Remote URL", resp.remote_host]);
  }
  const info = resp.model_info;
  if (info) {
    const arch = typeof info["general.architecture"] === "string" ? (info["general.architecture"] as string) : "";
    if (arch) rows.push(["", "architecture", arch]);
    const count = num(info["general.parameter_count"]);
    const params = resp.details.parameter_size || (count !== undefined ? humanNumber(count) : "");
    if (params) rows.push(["", "parameters", params]);
    const ctx = num(info[`${arch}.context_length`]);
    if (ctx !== undefined) rows.push(["", "context length", String(ctx)]);
    const emb = num(info[`${arch}.embedding_length`]);
    if (emb !== undefined) rows.push(["", "embedding length", String(emb)]);
  } else {
    rows.push(["", "architecture", resp.details.family], ["", "parameters", resp.details.parameter_size]);
  }
  rows.push(["", "quantization", resp.details.quantization_level]);
  if (resp.requires) rows.push(["", "requires", resp.requires]);
  return rows;
}

function projectorRows(info: Record<string, unknown>): Rows {
  const rows: Rows = [];
  const arch = typeof info["general.architecture"] === "string" ? (info["general.architecture"] as string) : "";
  if (arch) rows.push(["", "architecture", arch]);
  const count = num(info["general.parameter_count"]);
  if (count !== undefined) rows.push(["", "parameters", humanNumber(count)]);
  const value = (suffix: string) => num(info[`${arch}.vision.${suffix}`]) ?? num(info[`${arch}.audio.${suffix}`]);
  const emb = value("embedding_length");
  if (emb !== undefined) rows.push(["", "embedding length", String(emb)]);
  const dim = value("projection_dim");
  if (dim !== undefined) rows.push(["", "dimensions", String(dim)]);
  return rows;
}

/** The first `n` non-empty lines, then "..." when there were more. */
function head(text: string, n: number): Rows {
  const lines = text.split("\n").map((l) => l.trim()).filter(Boolean);
  const rows = lines.slice(0, n).map((l) => ["", l]);
  if (lines.length > n) rows.push(["", "..."]);
  return rows;
}

export function showInfo(resp: ShowInfo, verbose: boolean): string {
  let out = section("Model", modelRows(resp));
  if (resp.capabilities?.length) out += section("Capabilities", resp.capabilities.map((c) => ["", c]));
  if (resp.projector_info) out += section("Projector", projectorRows(resp.projector_info));
  if (resp.parameters) {
    const rows = resp.parameters.split("\n").filter((l) => l !== "").map((l) => ["", ...l.trim().split(/\s+/)]);
    out += section("Parameters", rows);
  }
  if (resp.model_info && verbose) {
    const keys = Object.keys(resp.model_info).sort();
    out += section("Metadata", keys.map((k) => ["", k, metadataValue(resp.model_info[k])]));
  }
  if (resp.tensors?.length && verbose) {
    out += section("Tensors", resp.tensors.map((t) => ["", t.name, t.type, `[${t.shape.join(" ")}]`]));
  }
  if (resp.system) out += section("System", head(resp.system, 2), 100);
  if (resp.license) out += section("License", head(resp.license, 2), 100);
  return out;
}
