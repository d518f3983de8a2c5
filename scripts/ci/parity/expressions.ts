/**
 * GitHub Actions `${{ … }}` expressions, evaluated with GitHub's own evaluator
 * (@actions/expressions) over plain-JSON contexts, plus the status functions the runner adds.
 */
import { data, Evaluator, Lexer, Parser } from "@actions/expressions";
import type { FunctionDefinition } from "@actions/expressions/funcs/info";

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type Contexts = Record<string, Json>;

/** What success()/failure()/always()/cancelled() see: the job's steps so far, or a job's needs. */
export interface Status {
  failed: boolean;
  cancelled?: boolean;
}

const CONTEXT_NAMES = [
  "github",
  "env",
  "vars",
  "secrets",
  "inputs",
  "matrix",
  "strategy",
  "needs",
  "steps",
  "runner",
  "job",
];
const EXPRESSION = /\$\{\{([\s\S]*?)\}\}/g;
const OUTPUT_READ = /\b(steps|needs)\.([A-Za-z_][\w-]*)\.outputs\.([A-Za-z_][\w-]*)/g;
const STATUS_FUNCTION = /\b(success|failure|always|cancelled)\s*\(/;

export class ExpressionError extends Error {}

function statusFunctions(status: Status): Map<string, FunctionDefinition> {
  const fn = (name: string, value: () => boolean): [string, FunctionDefinition] => [
    name,
    { name, minArgs: 0, maxArgs: 0, call: () => new data.BooleanData(value()) },
  ];
  return new Map([
    fn("success", () => !status.failed && !status.cancelled),
    fn("failure", () => status.failed),
    fn("always", () => true),
    fn("cancelled", () => status.cancelled === true),
  ]);
}

function toExpressionData(contexts: Contexts): data.Dictionary {
  return JSON.parse(JSON.stringify(contexts), data.reviver) as data.Dictionary;
}

function toJson(value: data.ExpressionData): Json {
  return JSON.parse(JSON.stringify(value, data.replacer) ?? "null") as Json;
}

/** Evaluates one expression (without `${{ }}`) to plain JSON. */
export function evaluate(expression: string, contexts: Contexts, status: Status = { failed: false }): Json {
  const functions = statusFunctions(status);
  try {
    const lexed = new Lexer(expression).lex();
    const parsed = new Parser(lexed.tokens, CONTEXT_NAMES, [...functions.values()]).parse();
    return toJson(new Evaluator(parsed, toExpressionData(contexts), functions).evaluate());
  } catch (error) {
    throw new ExpressionError(`cannot evaluate \${{ ${expression.trim()} }}: ${(error as Error).message}`);
  }
}

/** GitHub's string form of a value put into a string: objects as JSON, null as empty. */
export function coerceString(value: Json): string {
  if (value === null) return "";
  if (typeof value === "object") return JSON.stringify(value, null, 2);
  if (typeof value === "number") return String(value);
  return String(value);
}

export function truthy(value: Json): boolean {
  if (value === null || value === false || value === 0 || value === "") return false;
  return !(typeof value === "number" && Number.isNaN(value));
}

/**
 * A YAML value with expressions: a value that is exactly one `${{ }}` keeps its type (matrix
 * lists, fromJSON), anything else becomes a string with each expression interpolated.
 */
export function interpolate(value: Json, contexts: Contexts, status?: Status): Json {
  if (typeof value === "string") {
    const whole = /^\s*\$\{\{([\s\S]*?)\}\}\s*$/.exec(value);
    if (whole?.[1] !== undefined && !whole[1].includes("}}")) return evaluate(whole[1], contexts, status);
    return value.replace(EXPRESSION, (_, inner: string) => coerceString(evaluate(inner, contexts, status)));
  }
  if (Array.isArray(value)) return value.map((item) => interpolate(item, contexts, status));
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolate(v, contexts, status)]));
  }
  return value;
}

/** Evaluates an `if:`; like GitHub, one without a status function means `success() && (…)`. */
export function condition(text: Json | undefined, contexts: Contexts, status: Status): boolean {
  if (text === undefined || text === null) return !status.failed && !status.cancelled;
  if (typeof text === "boolean") return text && !status.failed;
  const source = String(text);
  const whole = /^\s*\$\{\{([\s\S]*)\}\}\s*$/.exec(source);
  const expression = whole?.[1] ?? source;
  const guarded = STATUS_FUNCTION.test(expression) ? expression : `success() && (${expression})`;
  return truthy(evaluate(guarded, contexts, status));
}

export interface OutputRead {
  context: "steps" | "needs";
  id: string;
  output: string;
}

/** Every `steps.X.outputs.Y` / `needs.X.outputs.Y` read in a YAML value's expressions. */
export function outputReads(value: Json | undefined): OutputRead[] {
  const text = JSON.stringify(value ?? null);
  const reads: OutputRead[] = [];
  for (const expression of text.matchAll(EXPRESSION)) {
    for (const match of (expression[1] ?? "").matchAll(OUTPUT_READ)) {
      reads.push({ context: match[1] as OutputRead["context"], id: match[2] as string, output: match[3] as string });
    }
  }
  return reads;
}
