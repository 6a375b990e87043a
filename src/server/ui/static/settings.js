// The settings form <-> a conversation's system prompt, options, think and tools; and the chat request
// they make.
import { DEFAULT_OPTIONS } from "./store.js";

const $ = (id) => document.getElementById(id);

const FIELDS = { temperature: "temperature", seed: "seed", num_ctx: "num-ctx" };

export function showSettings(conv) {
  $("system").value = conv.system ?? "";
  for (const [option, id] of Object.entries(FIELDS)) $(id).value = conv.options?.[option] ?? "";
  $("think").value = thinkValue(conv.think);
  $("tools").value = conv.tools ?? "";
}

export function readSettings(conv) {
  conv.system = $("system").value;
  conv.options = { ...DEFAULT_OPTIONS };
  for (const [option, id] of Object.entries(FIELDS)) conv.options[option] = $(id).value.trim();
  conv.think = $("think").value;
  conv.tools = $("tools").value;
}

/** "" (the model's default), "true", "false" or a level; older saves kept a boolean. */
function thinkValue(think) {
  if (think === true) return "true";
  return typeof think === "string" ? think : "";
}

/** The options that were set, as numbers. */
function options(conv) {
  const out = {};
  for (const [name, value] of Object.entries(conv.options ?? {})) {
    if (value === "" || value === undefined) continue;
    const n = Number(value);
    if (!Number.isFinite(n)) throw new Error(`${name} must be a number`);
    out[name] = n;
  }
  return out;
}

function tools(conv) {
  const text = (conv.tools ?? "").trim();
  if (!text) return undefined;
  let parsed;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new Error(`Tools is not valid JSON: ${e.message}`);
  }
  if (!Array.isArray(parsed)) throw new Error("Tools must be a JSON array");
  return parsed;
}

/** The /api/chat body for the conversation so far (its last message is the reply being written). */
export function chatRequest(conv) {
  // Replies that failed or were stopped before a word add nothing for the model.
  const history = conv.messages.slice(0, -1).filter((m) => m.role !== "assistant" || m.content || m.tool_calls?.length);
  const messages = history.map((m) => {
    const out = { role: m.role, content: m.content };
    if (m.images?.length) out.images = m.images;
    if (m.tool_calls?.length) out.tool_calls = m.tool_calls;
    return out;
  });
  if (conv.system.trim()) messages.unshift({ role: "system", content: conv.system });
  const body = { model: conv.model, messages, options: options(conv) };
  const think = thinkValue(conv.think);
  if (think) body.think = think === "true" ? true : think === "false" ? false : think;
  const t = tools(conv);
  if (t) body.tools = t;
  return body;
}
