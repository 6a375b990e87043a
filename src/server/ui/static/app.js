// The chat page: conversations in the sidebar, the model picker, streamed replies with a stop button.
import { listModels, streamChat } from "./api.js";
import { chatRequest, readSettings, showSettings } from "./settings.js";
import * as store from "./store.js";
import { el, renderMessage, updateMessage } from "./view.js";

const $ = (id) => document.getElementById(id);

const state = {
  conversations: store.loadConversations(),
  /** The AbortController of the reply being streamed, if any. */
  controller: null,
  /** Images picked for the next message, as base64. */
  pending: [],
};

const current = () => state.conversations.find((c) => c.id === store.currentId()) ?? state.conversations[0];

function status(text, kind = "info") {
  const box = $("status");
  box.hidden = !text;
  box.textContent = text ?? "";
  box.dataset.kind = kind;
}

function save() {
  if (!store.saveConversations(state.conversations)) status("This browser's storage is full: older conversations were not saved.", "error");
}

function renderSidebar() {
  const list = $("conversations");
  list.replaceChildren();
  const active = current();
  for (const conv of [...state.conversations].sort((a, b) => b.updated - a.updated)) {
    const item = el("li", conv === active ? "active" : "");
    item.dataset.id = conv.id;
    const open = el("button", "open", conv.title);
    open.type = "button";
    open.addEventListener("click", () => select(conv.id));
    const remove = el("button", "delete", "×");
    remove.type = "button";
    remove.title = "Delete this conversation";
    remove.addEventListener("click", () => removeConversation(conv.id));
    item.append(open, remove);
    list.append(item);
  }
}

function renderConversation() {
  const conv = current();
  $("messages").replaceChildren(...conv.messages.map((m) => renderMessage(m)));
  showSettings(conv);
  if (conv.model && [...$("model").options].some((o) => o.value === conv.model)) $("model").value = conv.model;
  scrollToEnd();
}

function scrollToEnd() {
  const box = $("messages");
  box.scrollTop = box.scrollHeight;
}

function select(id) {
  state.controller?.abort();
  store.setCurrentId(id);
  renderSidebar();
  renderConversation();
}

function startConversation() {
  const conv = store.newConversation($("model").value);
  state.conversations.push(conv);
  save();
  select(conv.id);
}

function removeConversation(id) {
  if (current()?.id === id) state.controller?.abort();
  state.conversations = state.conversations.filter((c) => c.id !== id);
  if (state.conversations.length === 0) state.conversations.push(store.newConversation($("model").value));
  if (!state.conversations.some((c) => c.id === store.currentId())) store.setCurrentId(state.conversations[0].id);
  save();
  renderSidebar();
  renderConversation();
}

async function loadModels() {
  const select = $("model");
  try {
    const names = await listModels();
    select.replaceChildren(...names.map((n) => Object.assign(el("option", "", n), { value: n })));
    const conv = current();
    if (conv.model && names.includes(conv.model)) select.value = conv.model;
    else if (names.length) conv.model = select.value = names[0];
    status(names.length ? "" : "No local models yet: pull or create one (corral pull <model>).");
  } catch (e) {
    select.replaceChildren();
    if (e.status === 401) {
      $("settings").open = true;
      status(store.apiKey() ? "The server refused this API key: check it under Settings." : "This server requires an API key: enter it under Settings.", "error");
    } else {
      status(`Could not list models: ${e.message}`, "error");
    }
  }
}

function busy(on) {
  $("send").hidden = on;
  $("stop").hidden = !on;
}

async function send() {
  const conv = current();
  const text = $("prompt").value;
  if (state.controller || (!text.trim() && state.pending.length === 0)) return;
  conv.model = $("model").value;
  if (!conv.model) return status("Pick a model first.", "error");
  readSettings(conv);
  const user = { role: "user", content: text };
  if (state.pending.length) user.images = state.pending;
  // `partial` stays set in storage if the page closes mid-reply, so it reads as stopped later.
  const reply = { role: "assistant", content: "", thinking: "", partial: true };
  conv.messages.push(user, reply);
  let request;
  try {
    request = chatRequest(conv);
  } catch (e) {
    conv.messages.splice(-2);
    return status(e.message, "error");
  }
  status("");
  if (conv.title === "New chat") conv.title = text.trim().slice(0, 48) || "Image";
  conv.updated = Date.now();
  $("prompt").value = "";
  state.pending = [];
  renderAttachments();
  $("messages").append(renderMessage(user));
  let node = renderMessage(reply, { streaming: true });
  $("messages").append(node);
  renderSidebar();
  save();
  scrollToEnd();

  // Redraw at most once a frame however fast chunks come; save the partial reply about once a second
  // (saving writes every conversation, images included).
  let queued = false;
  let saved = Date.now();
  const redraw = () => {
    if (queued) return;
    queued = true;
    requestAnimationFrame(() => {
      queued = false;
      if (state.controller === controller) node = updateMessage(node, reply, true);
      if (Date.now() - saved > 1000) {
        save();
        saved = Date.now();
      }
      scrollToEnd();
    });
  };

  const controller = new AbortController();
  state.controller = controller;
  busy(true);
  try {
    await streamChat(request, controller.signal, (chunk) => {
      const m = chunk.message ?? {};
      reply.content += m.content ?? "";
      reply.thinking += m.thinking ?? "";
      if (m.tool_calls?.length) reply.tool_calls = [...(reply.tool_calls ?? []), ...m.tool_calls];
      if (chunk.done) reply.stats = { eval_count: chunk.eval_count, eval_duration: chunk.eval_duration, done_reason: chunk.done_reason };
      redraw();
    });
  } catch (e) {
    if (e.name === "AbortError") reply.stopped = true;
    else reply.error = e.message;
  } finally {
    state.controller = null;
    busy(false);
    if (!reply.thinking) delete reply.thinking;
    delete reply.partial;
    conv.updated = Date.now();
    save();
    if (node.isConnected) updateMessage(node, reply, false);
    scrollToEnd();
  }
}

function renderAttachments() {
  const box = $("attachments");
  box.replaceChildren(
    ...state.pending.map((data, i) => {
      const chip = el("span", "attachment");
      const img = el("img");
      img.src = `data:image/png;base64,${data}`;
      img.alt = "image to send";
      const remove = el("button", "", "×");
      remove.type = "button";
      remove.title = "Remove";
      remove.addEventListener("click", () => {
        state.pending.splice(i, 1);
        renderAttachments();
      });
      chip.append(img, remove);
      return chip;
    }),
  );
}

function readImage(file) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result).replace(/^data:[^,]*,/, ""));
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(file);
  });
}

function bind() {
  $("composer").addEventListener("submit", (e) => {
    e.preventDefault();
    send();
  });
  $("prompt").addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      send();
    }
  });
  $("stop").addEventListener("click", () => state.controller?.abort());
  $("new-chat").addEventListener("click", startConversation);
  $("refresh-models").addEventListener("click", loadModels);
  $("model").addEventListener("change", () => {
    current().model = $("model").value;
    save();
  });
  for (const id of ["system", "temperature", "seed", "num-ctx", "think", "tools"]) {
    $(id).addEventListener("change", () => {
      readSettings(current());
      save();
    });
  }
  $("api-key").value = store.apiKey();
  $("api-key").addEventListener("change", () => {
    store.setApiKey($("api-key").value.trim());
    loadModels();
  });
  $("image").addEventListener("change", async (e) => {
    const files = [...e.target.files];
    e.target.value = "";
    try {
      state.pending.push(...(await Promise.all(files.map(readImage))));
    } catch (err) {
      status(`Could not read the image: ${err.message}`, "error");
    }
    renderAttachments();
  });
}

function start() {
  for (const conv of state.conversations) {
    for (const m of conv.messages) {
      if (m.partial) {
        delete m.partial;
        m.stopped = true;
      }
    }
  }
  if (state.conversations.length === 0) state.conversations.push(store.newConversation());
  if (!state.conversations.some((c) => c.id === store.currentId())) store.setCurrentId(state.conversations[0].id);
  bind();
  renderSidebar();
  renderConversation();
  loadModels().then(() => {
    renderConversation();
    document.body.dataset.ready = "1";
  });
}

start();
