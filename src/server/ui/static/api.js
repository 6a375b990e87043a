// The server's API as the page uses it: the model list and streamed chat, with the API key if set.
import { apiKey } from "./store.js";

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

function headers() {
  const h = { "Content-Type": "application/json" };
  const key = apiKey();
  if (key) h.Authorization = `Bearer ${key}`;
  return h;
}

async function failure(res) {
  let message = `${res.status} ${res.statusText}`;
  try {
    const body = await res.json();
    if (typeof body.error === "string") message = body.error;
  } catch {
    // not JSON: keep the status line
  }
  return new ApiError(res.status, message);
}

/** Local model names, sorted. */
export async function listModels() {
  const res = await fetch("/api/tags", { headers: headers() });
  if (!res.ok) throw await failure(res);
  const body = await res.json();
  return (body.models ?? []).map((m) => m.name).sort();
}

/** POSTs a chat request and calls onChunk for each NDJSON line until done (or the signal aborts). */
export async function streamChat(request, signal, onChunk) {
  const res = await fetch("/api/chat", { method: "POST", headers: headers(), body: JSON.stringify({ ...request, stream: true }), signal });
  if (!res.ok) throw await failure(res);
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let buffered = "";
  const line = (text) => {
    if (!text.trim()) return;
    const chunk = JSON.parse(text);
    // An error after the stream began arrives as a line of its own.
    if (typeof chunk.error === "string") throw new ApiError(500, chunk.error);
    onChunk(chunk);
  };
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    buffered += decoder.decode(value, { stream: true });
    const lines = buffered.split("\n");
    buffered = lines.pop();
    for (const l of lines) line(l);
  }
  line(buffered + decoder.decode());
}
