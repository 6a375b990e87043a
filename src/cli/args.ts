// Flag spellings Ollama's CLI (cobra) accepts that commander does not: `--flag=true|false` for
// boolean flags, and `--think=<level>` beside a bare `--think` (a bare --think never takes the
// next word, so `run m --think "why?"` keeps its prompt).

const BOOLEAN_FLAGS = new Set([
  "verbose", "insecure", "nowordwrap", "hidethinking", "truncate", "license", "modelfile", "parameters", "system",
  "template", "version", "help",
]);
const TRUE = ["1", "t", "T", "TRUE", "true", "True"];
const FALSE = ["0", "f", "F", "FALSE", "false", "False"];

export function normalizeArgs(argv: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--") {
      out.push(...argv.slice(i));
      break;
    }
    const m = /^--([a-z]+)=(.*)$/s.exec(arg);
    if (m && m[1] === "think") out.push("--think-value", m[2]!);
    else if (m && BOOLEAN_FLAGS.has(m[1]!) && TRUE.includes(m[2]!)) out.push(`--${m[1]}`);
    // Only --truncate has a meaningful "false" (the server's default is true); for the rest false is the default.
    else if (m && BOOLEAN_FLAGS.has(m[1]!) && FALSE.includes(m[2]!)) {
      if (m[1] === "truncate") out.push("--no-truncate");
    } else out.push(arg);
  }
  return out;
}
