// A small Markdown renderer for model replies. Safety first: the text is HTML-escaped before any
// markup is added, and links keep only http(s) and mailto targets, so no model output becomes live HTML.
// Pure (no DOM), so it can be tested outside a browser.

const ESCAPES = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

export function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (c) => ESCAPES[c]);
}

const SAFE_LINK = /^(https?:\/\/|mailto:)/i;

/** Inline markup on already-escaped text: code spans, bold, italic, strike, links. */
function inline(escaped) {
  const spans = [];
  // Code spans and links first, set aside so nothing inside them is treated as markup.
  let s = escaped.replace(/`([^`\n]+)`/g, (_m, code) => {
    spans.push(`<code>${code}</code>`);
    return `\u0000${spans.length - 1}\u0000`;
  });
  s = s.replace(/\[([^\]\n]+)\]\(([^)\s]+)\)/g, (m, label, href) => {
    // href is escaped text; unescape &amp; only to test the scheme, keep it escaped in the attribute.
    if (!SAFE_LINK.test(href.replace(/&amp;/g, "&"))) return m;
    spans.push(`<a href="${href}" target="_blank" rel="noopener noreferrer">${label}</a>`);
    return `\u0000${spans.length - 1}\u0000`;
  });
  s = s.replace(/\*\*([^*\n]+)\*\*/g, "<strong>$1</strong>");
  s = s.replace(/(^|[^_\w])__([^_\n]+)__(?!\w)/g, "$1<strong>$2</strong>");
  s = s.replace(/(^|[^*\w])\*([^*\n]+)\*(?!\w)/g, "$1<em>$2</em>");
  s = s.replace(/(^|[^_\w])_([^_\n]+)_(?!\w)/g, "$1<em>$2</em>");
  s = s.replace(/~~([^~\n]+)~~/g, "<del>$1</del>");
  return s.replace(/\u0000(\d+)\u0000/g, (_m, i) => spans[Number(i)]);
}

const LIST_ITEM = /^(\s*)([-*+]|\d+[.)])\s+(.*)$/;

/** Block structure of a run of text without code fences. */
function blocks(text) {
  const out = [];
  const lines = text.split("\n");
  let para = [];
  const flush = () => {
    if (para.length) out.push(`<p>${para.map((l) => inline(escapeHtml(l))).join("<br>")}</p>`);
    para = [];
  };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const heading = /^(#{1,6})\s+(.*)$/.exec(line);
    if (line.trim() === "") {
      flush();
    } else if (heading) {
      flush();
      const n = heading[1].length;
      out.push(`<h${n}>${inline(escapeHtml(heading[2]))}</h${n}>`);
    } else if (/^\s*([-*_])(\s*\1){2,}\s*$/.test(line)) {
      flush();
      out.push("<hr>");
    } else if (/^\s*>/.test(line)) {
      flush();
      const quoted = [];
      while (i < lines.length && /^\s*>/.test(lines[i])) quoted.push(lines[i++].replace(/^\s*>\s?/, ""));
      i--;
      out.push(`<blockquote>${blocks(quoted.join("\n"))}</blockquote>`);
    } else if (LIST_ITEM.test(line)) {
      flush();
      const ordered = /^\s*\d/.test(line);
      const items = [];
      while (i < lines.length && LIST_ITEM.test(lines[i])) items.push(LIST_ITEM.exec(lines[i++])[3]);
      i--;
      const tag = ordered ? "ol" : "ul";
      out.push(`<${tag}>${items.map((t) => `<li>${inline(escapeHtml(t))}</li>`).join("")}</${tag}>`);
    } else {
      para.push(line);
    }
  }
  flush();
  return out.join("");
}

/**
 * Markdown to HTML. Fenced code blocks become <pre><code>; an unclosed fence (a reply still
 * streaming) runs to the end of the text.
 */
export function renderMarkdown(text) {
  const out = [];
  const fence = /^(```|~~~)[ \t]*([\w+#.-]*)[^\n]*\n([\s\S]*?)(?:^\1[ \t]*$|(?![\s\S]))/gm;
  let last = 0;
  for (let m; (m = fence.exec(text)); ) {
    out.push(blocks(text.slice(last, m.index)));
    const lang = m[2] ? ` class="language-${escapeHtml(m[2])}"` : "";
    out.push(`<pre><code${lang}>${escapeHtml(m[3].replace(/\n$/, ""))}</code></pre>`);
    last = m.index + m[0].length;
  }
  out.push(blocks(text.slice(last)));
  return out.join("");
}
