// The Go values a template sees, modelled in JS. Go's printing, truthiness and comparison rules
// depend on the dynamic type, so ints (bigint) and float64s (number) are kept apart, and typed
// collections carry their Go type name and, where the Go type has one, a String() method.

/** A Go value: nil interface (null), string, bool, float64 (number), int (bigint) or a composite. */
export type GoValue = null | string | boolean | number | bigint | GoList | GoMap | GoStruct | GoFunc;

/** A Go function value (only reachable through `call`). */
export type GoFunc = (...args: GoValue[]) => GoValue;

interface Methods {
  /** Go's String() method, used when printing. */
  str?: () => string;
  /** What json.Marshal produces, as a value for goJson; default is the structural encoding. */
  json?: () => unknown;
}

export class GoList implements Methods {
  str?: () => string;
  json?: () => unknown;
  constructor(
    readonly items: GoValue[],
    readonly typeName = "[]interface {}",
    /** A nil slice: prints like an empty one, marshals as null. */
    readonly isNil = false,
    methods: Methods = {},
  ) {
    Object.assign(this, methods);
  }
}

export class GoMap implements Methods {
  str?: () => string;
  json?: () => unknown;
  constructor(
    readonly entries: Map<string, GoValue>,
    readonly typeName = "map[string]interface {}",
    readonly isNil = false,
    methods: Methods = {},
  ) {
    Object.assign(this, methods);
  }
}

export class GoStruct implements Methods {
  str?: () => string;
  json?: () => unknown;
  constructor(
    readonly typeName: string,
    readonly fields: Map<string, GoValue>,
    /** Reached through a pointer: fmt prints `&{...}` below the top level. */
    readonly pointer = false,
    methods: Methods = {},
  ) {
    Object.assign(this, methods);
  }
}

/** Go's reflect type name of a value, for error messages. */
export function typeName(v: GoValue): string {
  if (v === null) return "<nil>";
  switch (typeof v) {
    case "string":
      return "string";
    case "boolean":
      return "bool";
    case "number":
      return "float64";
    case "bigint":
      return "int";
    case "function":
      return "func(...interface {}) interface {}";
  }
  if (v instanceof GoStruct) return (v.pointer ? "*" : "") + v.typeName;
  return v.typeName;
}

/** Go's truth: false, 0, nil, and empty strings, slices and maps are false; structs are true. */
export function truth(v: GoValue): boolean {
  if (v === null) return false;
  switch (typeof v) {
    case "string":
      return v.length > 0;
    case "boolean":
      return v;
    case "number":
      return v !== 0;
    case "bigint":
      return v !== 0n;
    case "function":
      return true;
  }
  if (v instanceof GoList) return v.items.length > 0;
  if (v instanceof GoMap) return v.entries.size > 0;
  return true;
}

/** Byte length of a Go string (Go strings are UTF-8 bytes). */
export function byteLength(s: string): number {
  return Buffer.byteLength(s, "utf8");
}

/** Converts decoded JSON (as Go's encoding/json would decode into `any`) to Go values. */
export function fromJson(v: unknown): GoValue {
  if (v === null || v === undefined) return null;
  if (typeof v === "string" || typeof v === "boolean" || typeof v === "number") return v;
  if (typeof v === "bigint") return v;
  if (Array.isArray(v)) return new GoList(v.map(fromJson));
  if (typeof v === "object") {
    const entries = new Map<string, GoValue>();
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) entries.set(k, fromJson(x));
    return new GoMap(entries);
  }
  return null;
}

/** The value json.Marshal would encode, as input for goJson (Go maps are emitted with sorted keys). */
export function toJsonValue(v: GoValue): unknown {
  if (v === null || typeof v !== "object") return typeof v === "function" ? null : v;
  if (v.json) return v.json();
  if (v instanceof GoList) return v.isNil ? null : v.items.map(toJsonValue);
  if (v instanceof GoMap) {
    if (v.isNil) return null;
    return new Map([...v.entries].map(([k, x]) => [k, toJsonValue(x)]));
  }
  const out: Record<string, unknown> = {};
  for (const [k, x] of v.fields) out[k] = toJsonValue(x);
  return out;
}

/** Keys in Go's sorted map order (byte order of the UTF-8 encoding). */
export function sortedKeys(m: GoMap): string[] {
  return [...m.entries.keys()].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
}
