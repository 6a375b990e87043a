// Model names (spec §6): host/namespace/model:tag with Ollama's parsing quirks and validity rules.
// A valid part can never be "." or "..", nor contain "/", so parts are safe as directory names.

export interface ModelName {
  host: string;
  namespace: string;
  model: string;
  tag: string;
  scheme?: string;
}

export const DEFAULT_HOST = "registry.ollama.ai";
export const DEFAULT_NAMESPACE = "library";
export const DEFAULT_TAG = "latest";

export type NamePart = "host" | "namespace" | "model" | "tag";

// Marks a separator that was present with nothing on one side; never valid.
const MISSING = "\0missing";

/** Splits at the last `sep`; an empty side becomes MISSING. */
function cutLast(s: string, sep: string): [before: string, after: string] | undefined {
  const i = s.lastIndexOf(sep);
  if (i < 0) return undefined;
  return [s.slice(0, i) || MISSING, s.slice(i + sep.length) || MISSING];
}

function isWordChar(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x5f;
}

/** Spec §6.2 validity of one part (ASCII only: any other character is rejected). */
export function isValidPart(kind: NamePart, s: string): boolean {
  const max = kind === "host" ? 350 : 80;
  if (s.length < 1 || s.length > max) return false;
  if (!isWordChar(s.charCodeAt(0))) return false;
  for (let i = 1; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (isWordChar(c) || c === 0x2d /* - */) continue;
    if (c === 0x2e /* . */ && kind !== "namespace") continue;
    if (c === 0x3a /* : */ && kind === "host") continue;
    return false;
  }
  return true;
}

export function isValidName(n: ModelName): boolean {
  return (
    isValidPart("host", n.host) &&
    isValidPart("namespace", n.namespace) &&
    isValidPart("model", n.model) &&
    isValidPart("tag", n.tag)
  );
}

/** Parses like Ollama's ParseName (+ defaults); undefined when the result is not a valid full name. */
export function parseModelName(input: string): ModelName | undefined {
  let s = input.trim();
  let tag = "";
  let namespace = "";
  let host = "";
  let scheme: string | undefined;

  if (s.lastIndexOf(":") > s.lastIndexOf("/")) [s, tag] = cutLast(s, ":")!;
  let model: string;
  const m = cutLast(s, "/");
  if (!m) {
    model = s;
  } else {
    [s, model] = m;
    const ns = cutLast(s, "/");
    if (!ns) {
      namespace = s;
    } else {
      [s, namespace] = ns;
      const i = s.indexOf("://");
      if (i >= 0) {
        scheme = s.slice(0, i);
        host = s.slice(i + 3);
      } else {
        host = s;
      }
    }
  }

  const n: ModelName = {
    host: host || DEFAULT_HOST,
    namespace: namespace || DEFAULT_NAMESPACE,
    model,
    tag: tag || DEFAULT_TAG,
  };
  if (scheme !== undefined) n.scheme = scheme;
  return isValidName(n) ? n : undefined;
}

/** host/namespace/model:tag (scheme never printed). */
export function fullName(n: ModelName): string {
  return `${n.host}/${n.namespace}/${n.model}:${n.tag}`;
}

/** Shortest display form (§6.3); the tag is always shown. */
export function displayShortest(n: ModelName): string {
  if (n.host.toLowerCase() !== DEFAULT_HOST) return fullName(n);
  if (n.namespace.toLowerCase() !== DEFAULT_NAMESPACE) return `${n.namespace}/${n.model}:${n.tag}`;
  return `${n.model}:${n.tag}`;
}

/** Case-insensitive equality of all four parts. */
export function sameName(a: ModelName, b: ModelName): boolean {
  return (
    a.host.toLowerCase() === b.host.toLowerCase() &&
    a.namespace.toLowerCase() === b.namespace.toLowerCase() &&
    a.model.toLowerCase() === b.model.toLowerCase() &&
    a.tag.toLowerCase() === b.tag.toLowerCase()
  );
}
