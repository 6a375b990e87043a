// Hugging Face tokenizer files → GGUF tokenizer metadata: a SentencePiece tokenizer.model (llama.cpp's
// "llama" vocab) or a byte-level BPE tokenizer.json ("gpt2" vocab, with its merges and pre-tokenizer
// name), the special tokens from tokenizer_config.json, and the chat template.
import { readFile } from "node:fs/promises";
import { GgufValueType } from "../types.js";
import type { GgufWriteValue } from "../writer.js";
import type { Family } from "./hf-config.js";
import { SafetensorsError } from "./reader.js";
import { parseSentencePiece, PIECE_TYPE } from "./sentencepiece.js";

type Kv = [string, GgufWriteValue];
type Json = Record<string, any>;

const str = (value: string): GgufWriteValue => ({ type: GgufValueType.STRING, value });
const u32 = (value: number): GgufWriteValue => ({ type: GgufValueType.UINT32, value });
const bool = (value: boolean): GgufWriteValue => ({ type: GgufValueType.BOOL, value });
const arr = (arrayType: GgufValueType, value: ArrayLike<string | number>): GgufWriteValue => ({ type: GgufValueType.ARRAY, arrayType, value });

async function readJson(files: Map<string, string>, name: string): Promise<Json | undefined> {
  const path = files.get(name);
  if (!path) return undefined;
  try {
    return JSON.parse(await readFile(path, "utf8"));
  } catch (e) {
    throw new SafetensorsError(`${name}: ${(e as Error).message}`);
  }
}

/** Known pre-tokenizer split patterns → llama.cpp's pre-tokenizer names. */
const PRE_PATTERNS: Record<string, string> = {
  "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+": "llama-bpe",
  "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+": "qwen2",
};

function preTokenizer(tok: Json, family: Family): string {
  const pre = tok.pre_tokenizer as Json | null;
  if (pre?.type === "ByteLevel" && pre.use_regex !== false) return "gpt-2";
  const parts: Json[] = pre?.type === "Sequence" ? pre.pretokenizers ?? [] : pre ? [pre] : [];
  for (const p of parts) {
    const pattern = p.type === "Split" ? p.pattern?.Regex : undefined;
    if (typeof pattern === "string" && PRE_PATTERNS[pattern]) return PRE_PATTERNS[pattern]!;
  }
  return family === "qwen2" ? "qwen2" : family === "gpt2" ? "gpt-2" : "default";
}

const tokenText = (v: unknown): string | undefined =>
  typeof v === "string" ? v : v && typeof v === "object" && typeof (v as Json).content === "string" ? (v as Json).content : undefined;

interface Vocab {
  tokens: string[];
  types: number[];
  scores?: number[];
  merges?: string[];
  ids: Map<string, number>;
  kv: Kv[];
  /** Special ids the tokenizer model itself names (SentencePiece's trainer spec). */
  defaults?: Record<string, number | undefined>;
}

/** Pads or checks the vocabulary against the embedding rows: llama.cpp needs them equal. */
function fit(v: Vocab, nVocab: number): void {
  if (v.tokens.length > nVocab) throw new SafetensorsError(`the tokenizer has ${v.tokens.length} tokens but the embedding only ${nVocab} rows`);
  for (let i = v.tokens.length; i < nVocab; i++) {
    v.tokens.push(`[PAD${i}]`);
    v.types.push(PIECE_TYPE.UNUSED);
    v.scores?.push(-1000);
  }
}

function addedTokens(tok: Json | undefined, tcfg: Json | undefined): { id: number; content: string; special: boolean }[] {
  const out = new Map<number, { id: number; content: string; special: boolean }>();
  for (const a of (tok?.added_tokens ?? []) as Json[]) if (Number.isInteger(a.id) && typeof a.content === "string") out.set(a.id, { id: a.id, content: a.content, special: a.special !== false });
  for (const [id, a] of Object.entries((tcfg?.added_tokens_decoder ?? {}) as Record<string, Json>)) {
    if (!out.has(Number(id)) && typeof a.content === "string") out.set(Number(id), { id: Number(id), content: a.content, special: a.special !== false });
  }
  return [...out.values()];
}

async function sentencePieceVocab(files: Map<string, string>, tok: Json | undefined, tcfg: Json | undefined, nVocab: number): Promise<Vocab> {
  const spm = parseSentencePiece(await readFile(files.get("tokenizer.model")!));
  const v: Vocab = {
    tokens: spm.pieces.map((p) => p.piece),
    scores: spm.pieces.map((p) => p.score),
    types: spm.pieces.map((p) => p.type),
    ids: new Map(),
    kv: [["tokenizer.ggml.model", str("llama")], ["tokenizer.ggml.pre", str("default")], ["tokenizer.ggml.add_space_prefix", bool(spm.addDummyPrefix)]],
  };
  for (const a of addedTokens(tok, tcfg)) {
    while (v.tokens.length < a.id) { v.tokens.push(`[PAD${v.tokens.length}]`); v.scores!.push(-1000); v.types.push(PIECE_TYPE.UNUSED); }
    const type = a.special ? PIECE_TYPE.CONTROL : PIECE_TYPE.USER_DEFINED;
    if (a.id === v.tokens.length) { v.tokens.push(a.content); v.scores!.push(-1000); v.types.push(type); }
    else { v.tokens[a.id] = a.content; v.types[a.id] = type; }
  }
  fit(v, nVocab);
  v.tokens.forEach((t, i) => v.ids.set(t, i));
  const id = (n: number) => (n >= 0 && n < nVocab ? n : undefined);
  v.defaults = { unk: id(spm.unkId), bos: id(spm.bosId), eos: id(spm.eosId), pad: id(spm.padId) };
  return v;
}

/** tokenizer.json with a byte-fallback BPE over "▁" pieces: SentencePiece in Hugging Face's format. */
function spmFromJson(tok: Json, tcfg: Json | undefined, nVocab: number): Vocab {
  const vocab = tok.model.vocab as Record<string, number>;
  const v: Vocab = { tokens: [], scores: [], types: [], ids: new Map(), kv: [["tokenizer.ggml.model", str("llama")], ["tokenizer.ggml.pre", str("default")]] };
  for (const [t, id] of Object.entries(vocab)) {
    v.tokens[id] = t;
    v.scores![id] = -id; // merge priority follows the id order in these vocabularies
    v.types[id] = /^<0x[0-9A-Fa-f]{2}>$/.test(t) ? PIECE_TYPE.BYTE : t === tok.model.unk_token ? PIECE_TYPE.UNKNOWN : PIECE_TYPE.NORMAL;
  }
  for (const a of addedTokens(tok, tcfg)) {
    v.tokens[a.id] = a.content;
    v.scores![a.id] ??= -1000;
    v.types[a.id] = a.special ? PIECE_TYPE.CONTROL : PIECE_TYPE.USER_DEFINED;
  }
  fillGaps(v);
  fit(v, nVocab);
  v.tokens.forEach((t, i) => v.ids.set(t, i));
  return v;
}

function fillGaps(v: Vocab): void {
  for (let i = 0; i < v.tokens.length; i++) {
    if (v.tokens[i] !== undefined) continue;
    v.tokens[i] = `[PAD${i}]`;
    v.types[i] = PIECE_TYPE.UNUSED;
    if (v.scores) v.scores[i] = -1000;
  }
}

function bpeVocab(tok: Json, tcfg: Json | undefined, family: Family, nVocab: number): Vocab {
  const vocab = tok.model.vocab as Record<string, number>;
  const v: Vocab = { tokens: [], types: [], ids: new Map(), kv: [["tokenizer.ggml.model", str("gpt2")], ["tokenizer.ggml.pre", str(preTokenizer(tok, family))]] };
  for (const [t, id] of Object.entries(vocab)) {
    if (!Number.isInteger(id) || id < 0) throw new SafetensorsError(`tokenizer.json: token ${JSON.stringify(t)} has id ${id}`);
    v.tokens[id] = t;
    v.types[id] = PIECE_TYPE.NORMAL;
  }
  for (const a of addedTokens(tok, tcfg)) {
    v.tokens[a.id] = a.content;
    v.types[a.id] = a.special ? PIECE_TYPE.CONTROL : PIECE_TYPE.USER_DEFINED;
  }
  fillGaps(v);
  fit(v, nVocab);
  v.tokens.forEach((t, i) => v.ids.set(t, i));
  v.merges = ((tok.model.merges ?? []) as (string | string[])[]).map((m) => (Array.isArray(m) ? m.join(" ") : m));
  return v;
}

/** Whether the post-processor template puts `id` first (tokenizers that add BOS say so there). */
function postProcessorAdds(tok: Json | undefined, id: number | undefined): boolean {
  const pp = tok?.post_processor as Json | undefined;
  if (id === undefined || !pp) return false;
  const procs: Json[] = pp.type === "Sequence" ? pp.processors ?? [] : [pp];
  for (const p of procs) {
    if (p.type !== "TemplateProcessing") continue;
    const first = (p.single ?? [])[0] as Json | undefined;
    const name = first?.SpecialToken?.id;
    if (name !== undefined && (p.special_tokens?.[name]?.ids ?? []).includes(id)) return true;
  }
  return false;
}

async function chatTemplates(files: Map<string, string>, tcfg: Json | undefined): Promise<Kv[]> {
  let t: unknown = tcfg?.chat_template;
  if (t === undefined && files.has("chat_template.jinja")) t = await readFile(files.get("chat_template.jinja")!, "utf8");
  if (t === undefined) t = (await readJson(files, "chat_template.json"))?.chat_template;
  if (typeof t === "string") return [["tokenizer.chat_template", str(t)]];
  if (!Array.isArray(t)) return [];
  const out: Kv[] = [];
  for (const e of t as Json[]) {
    if (typeof e?.template !== "string") continue;
    out.push([e.name === "default" ? "tokenizer.chat_template" : `tokenizer.chat_template.${e.name}`, str(e.template)]);
  }
  if (out.some(([k]) => k !== "tokenizer.chat_template")) {
    const names = (t as Json[]).map((e) => e.name).filter((n) => n !== "default");
    out.push(["tokenizer.chat_templates", arr(GgufValueType.STRING, names)]);
  }
  return out;
}

/** GGUF tokenizer metadata for a model whose embedding has `nVocab` rows. */
export async function tokenizerMetadata(files: Map<string, string>, family: Family, nVocab: number, config: Json): Promise<Kv[]> {
  const tok = await readJson(files, "tokenizer.json");
  const tcfg = await readJson(files, "tokenizer_config.json");
  const stmap = await readJson(files, "special_tokens_map.json");
  let v: Vocab;
  if (family !== "gpt2" && family !== "qwen2" && files.has("tokenizer.model")) v = await sentencePieceVocab(files, tok, tcfg, nVocab);
  else if (tok?.model?.type === "BPE" && tok.model.vocab && typeof tok.model.vocab === "object") {
    v = tok.model.byte_fallback && family !== "gpt2" && family !== "qwen2" ? spmFromJson(tok, tcfg, nVocab) : bpeVocab(tok, tcfg, family, nVocab);
  } else if (tok) throw new SafetensorsError(`tokenizer.json: unsupported tokenizer model ${JSON.stringify(tok.model?.type)}`);
  else throw new SafetensorsError("no tokenizer found: provide tokenizer.json or tokenizer.model");

  const kv: Kv[] = [...v.kv, ["tokenizer.ggml.tokens", arr(GgufValueType.STRING, v.tokens)]];
  if (v.scores) kv.push(["tokenizer.ggml.scores", arr(GgufValueType.FLOAT32, v.scores)]);
  kv.push(["tokenizer.ggml.token_type", arr(GgufValueType.INT32, v.types)]);
  if (v.merges) kv.push(["tokenizer.ggml.merges", arr(GgufValueType.STRING, v.merges)]);

  const configId = (k: string) => {
    const x = config[`${k}_token_id`];
    const n = Array.isArray(x) ? x[0] : x;
    return Number.isInteger(n) && n >= 0 && n < nVocab ? (n as number) : undefined;
  };
  const ids: Record<string, number | undefined> = {};
  for (const k of ["bos", "eos", "unk", "pad"]) {
    const text = tokenText(tcfg?.[`${k}_token`]) ?? tokenText(stmap?.[`${k}_token`]);
    ids[k] = (text !== undefined ? v.ids.get(text) : undefined) ?? v.defaults?.[k] ?? configId(k);
  }
  const names: Record<string, string> = { bos: "bos_token_id", eos: "eos_token_id", unk: "unknown_token_id", pad: "padding_token_id" };
  for (const [k, key] of Object.entries(names)) if (ids[k] !== undefined) kv.push([`tokenizer.ggml.${key}`, u32(ids[k]!)]);
  const spm = v.kv.some(([k, x]) => k === "tokenizer.ggml.model" && x.value === "llama");
  const addBos = typeof tcfg?.add_bos_token === "boolean" ? tcfg.add_bos_token : spm || postProcessorAdds(tok, ids.bos);
  kv.push(["tokenizer.ggml.add_bos_token", bool(addBos)]);
  kv.push(["tokenizer.ggml.add_eos_token", bool(tcfg?.add_eos_token === true)]);
  kv.push(...(await chatTemplates(files, tcfg)));
  return kv;
}
