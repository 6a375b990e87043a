// A Go text/template in TypeScript: parse once, execute over Go values (see value.ts).
export { execute, TemplateExecError, type FuncDef } from "./exec.js";
export { parse, TemplateParseError, type ParsedTree } from "./parse.js";
export { BUILTINS, BUILTIN_NAMES } from "./funcs.js";
export * from "./value.js";
export { formatValue, sprint, sprintf } from "./fmt.js";
export type * from "./ast.js";
