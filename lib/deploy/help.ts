/**
 * `--help` text that fits a terminal: flags left-aligned in a column no wider than FLAG_COLUMN,
 * descriptions wrapped at WIDTH columns (a longer flag puts its description on the next line).
 * citty's own renderUsage right-aligns every flag against the longest one and never wraps, which
 * pushed descriptions past 200 columns.
 */
import type { ArgDef, ArgsDef, CommandDef } from "citty";

export const WIDTH = 100;
const FLAG_COLUMN = 32;
const INDENT = "  ";
const GAP = "  ";

/** Greedy word wrap; a word longer than the width stays whole on its own line. */
export function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line === "") line = word;
    else if (line.length + 1 + word.length <= width) line += ` ${word}`;
    else {
      lines.push(line);
      line = word;
    }
  }
  if (line !== "") lines.push(line);
  return lines.length ? lines : [""];
}

/** Two columns: `left` padded to the column, `right` wrapped in the rest of the width. */
function columns(rows: Array<[string, string]>, column: number): string[] {
  const leftWidth = Math.min(column, Math.max(0, ...rows.map(([left]) => left.length)));
  const rightWidth = WIDTH - INDENT.length - leftWidth - GAP.length;
  const pad = " ".repeat(INDENT.length + leftWidth + GAP.length);
  const out: string[] = [];
  for (const [left, right] of rows) {
    const text = wrap(right, rightWidth);
    if (left.length > leftWidth) {
      out.push(`${INDENT}${left}`);
      for (const line of text) out.push(`${pad}${line}`);
      continue;
    }
    out.push(`${INDENT}${left.padEnd(leftWidth)}${GAP}${text[0] ?? ""}`.trimEnd());
    for (const line of text.slice(1)) out.push(`${pad}${line}`);
  }
  return out;
}

function flagLabel(name: string, def: ArgDef): string {
  if (def.type === "positional") return `<${name}>`;
  const hint = "valueHint" in def && def.valueHint ? def.valueHint : "value";
  return def.type === "boolean" ? `--${name}` : `--${name}=<${hint}>`;
}

function flagText(def: ArgDef): string {
  const description = def.description ?? "";
  return "default" in def && def.default !== undefined && def.default !== ""
    ? `${description} (default: ${String(def.default)})`
    : description;
}

async function resolveValue<T>(value: T | (() => T | Promise<T>) | Promise<T> | undefined): Promise<T | undefined> {
  return typeof value === "function" ? await (value as () => T | Promise<T>)() : await value;
}

/** The help of `command` (`parent` given: a subcommand, named `parent-name command-name`). */
export async function renderHelp(command: CommandDef<ArgsDef>, parent?: CommandDef<ArgsDef>): Promise<string> {
  const meta = (await resolveValue(command.meta)) ?? {};
  const parentMeta = parent ? ((await resolveValue(parent.meta)) ?? {}) : undefined;
  const args = ((await resolveValue(command.args)) ?? {}) as ArgsDef;
  const subCommands = (await resolveValue(command.subCommands)) ?? {};
  const name = [parentMeta?.name, meta.name].filter(Boolean).join(" ");
  const commandNames = Object.keys(subCommands);

  const out: string[] = [];
  if (meta.description) out.push(...wrap(meta.description, WIDTH), "");
  out.push(`Usage: bun ${name}${commandNames.length ? " [command]" : ""} [flags]`, "");

  if (commandNames.length) {
    const rows: Array<[string, string]> = [];
    for (const [sub, load] of Object.entries(subCommands)) {
      const def = (await resolveValue(load as () => Promise<CommandDef<ArgsDef>>)) as CommandDef<ArgsDef>;
      const subMeta = (await resolveValue(def.meta)) ?? {};
      rows.push([sub, subMeta.description ?? ""]);
    }
    out.push("Commands:", ...columns(rows, FLAG_COLUMN), "");
  }
  const flags = Object.entries(args).map(([flag, def]): [string, string] => [flagLabel(flag, def), flagText(def)]);
  if (flags.length) out.push("Flags:", ...columns(flags, FLAG_COLUMN), "");
  const footer = `Flags may be written --a_b, --a-b or --aB.${commandNames.length ? ` Run \`bun ${name} <command> --help\` for a command's flags.` : ""}`;
  out.push(...wrap(footer, WIDTH));
  return out.join("\n");
}
