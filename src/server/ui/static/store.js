// Conversations and the API key, kept in the browser's localStorage.

const CONVERSATIONS = "corral.conversations";
const CURRENT = "corral.current";
const API_KEY = "corral.apiKey";

export const DEFAULT_OPTIONS = { temperature: "", seed: "", num_ctx: "" };

function read(key, fallback) {
  try {
    const v = localStorage.getItem(key);
    return v === null ? fallback : JSON.parse(v);
  } catch {
    return fallback;
  }
}

export function newConversation(model = "") {
  return {
    id: `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`,
    title: "New chat",
    model,
    system: "",
    options: { ...DEFAULT_OPTIONS },
    think: "",
    messages: [],
    updated: Date.now(),
  };
}

export function loadConversations() {
  const list = read(CONVERSATIONS, []);
  return Array.isArray(list) ? list.filter((c) => c && typeof c.id === "string" && Array.isArray(c.messages)) : [];
}

/**
 * Saves every conversation. Images make storage run out first: when it does, they are dropped from
 * the saved copy (the page keeps them until reload). Returns false when even that did not fit.
 */
export function saveConversations(list) {
  try {
    localStorage.setItem(CONVERSATIONS, JSON.stringify(list));
    return true;
  } catch {
    const lean = list.map((c) => ({ ...c, messages: c.messages.map(({ images, ...m }) => (images ? { ...m, images: [] } : m)) }));
    try {
      localStorage.setItem(CONVERSATIONS, JSON.stringify(lean));
    } catch {
      return false;
    }
    return true;
  }
}

export const currentId = () => read(CURRENT, null);
export const setCurrentId = (id) => localStorage.setItem(CURRENT, JSON.stringify(id));
export const apiKey = () => localStorage.getItem(API_KEY) ?? "";
export const setApiKey = (key) => (key ? localStorage.setItem(API_KEY, key) : localStorage.removeItem(API_KEY));
