// Messages as DOM. Model text reaches the page only as textContent or through the escaping Markdown
// renderer.
import { renderMarkdown } from "./markdown.js";

export function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

/** Copies text; the async clipboard needs a secure context, so plain-http LAN pages fall back. */
export async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    const area = el("textarea");
    area.value = text;
    document.body.append(area);
    area.select();
    const ok = document.execCommand("copy");
    area.remove();
    return ok;
  }
}

function copyButton(label, text) {
  const button = el("button", "copy", label);
  button.type = "button";
  button.addEventListener("click", async () => {
    button.textContent = (await copyText(text())) ? "Copied" : "Copy failed";
  });
  return button;
}

/** "12 tokens · 345.6 tokens/s" from the final chunk's counts (durations are nanoseconds). */
export function speed(stats) {
  if (!stats || !stats.eval_count) return "";
  const seconds = stats.eval_duration / 1e9;
  const rate = seconds > 0 ? ` · ${(stats.eval_count / seconds).toFixed(1)} tokens/s` : "";
  return `${stats.eval_count} tokens${rate}`;
}

function imageStrip(images) {
  const strip = el("div", "images");
  for (const data of images) {
    const img = el("img");
    img.alt = "attached image";
    // Browsers sniff the real image format, whatever the declared one.
    img.src = `data:image/png;base64,${data}`;
    strip.append(img);
  }
  return strip;
}

function toolCalls(calls) {
  const box = el("div", "tool-calls");
  for (const call of calls) {
    const fn = call.function ?? {};
    const item = el("div", "tool-call");
    item.append(el("span", "tool-name", `${fn.name ?? "?"}()`), el("pre", "tool-args", JSON.stringify(fn.arguments ?? {}, null, 2)));
    box.append(item);
  }
  return box;
}

function markdown(text) {
  const body = el("div", "content markdown");
  body.innerHTML = renderMarkdown(text);
  for (const pre of body.querySelectorAll("pre")) {
    const code = pre.textContent;
    pre.prepend(copyButton("Copy code", () => code));
  }
  return body;
}

/** One message; `streaming` marks the reply still arriving. Keeps a thinking box open if it was. */
export function renderMessage(msg, { streaming = false, wasOpen } = {}) {
  const node = el("div", `msg ${msg.role}`);
  node.append(el("div", "role", msg.role === "user" ? "You" : "Assistant"));
  if (msg.role !== "assistant") {
    if (msg.images?.length) node.append(imageStrip(msg.images));
    node.append(el("div", "content plain", msg.content));
    return node;
  }
  if (msg.thinking) {
    const details = el("details", "thinking");
    details.open = wasOpen ?? (streaming && !msg.content);
    const summary = el("summary", "", streaming && !msg.content ? "Thinking…" : "Thinking");
    // Once the reader opens or closes it, their choice wins over the automatic one.
    summary.addEventListener("click", () => (details.dataset.touched = "1"));
    details.append(summary, el("div", "thinking-text", msg.thinking));
    node.append(details);
  }
  node.append(markdown(msg.content));
  if (msg.tool_calls?.length) node.append(toolCalls(msg.tool_calls));
  const meta = el("div", "meta");
  if (streaming) meta.append(el("span", "streaming", "…"));
  if (msg.stopped) meta.append(el("span", "stopped", "stopped"));
  if (msg.error) meta.append(el("span", "error", msg.error));
  const rate = speed(msg.stats);
  if (rate) meta.append(el("span", "stats", rate));
  if (!streaming && msg.content) meta.append(copyButton("Copy", () => msg.content));
  node.append(meta);
  return node;
}

/** Replaces a rendered message with its current state. */
export function updateMessage(node, msg, streaming) {
  const details = node.querySelector("details.thinking");
  const fresh = renderMessage(msg, { streaming, wasOpen: details && details.dataset.touched ? details.open : undefined });
  const freshDetails = fresh.querySelector("details.thinking");
  if (details?.dataset.touched && freshDetails) freshDetails.dataset.touched = "1";
  node.replaceWith(fresh);
  return fresh;
}
