/**
 * `--help` text that fits a terminal: flags left-aligned in a column no wider than FLAG_COLUMN,
 * descriptions wrapped at WIDTH columns (a longer flag puts its description on the next line).
 * citty's own renderUsage right-aligns every flag against the longest one and never wraps, which
 * pushed descriptions past 200 columns.
 */
import type { ArgDef, ArgsDef } from "citty";
import type { Command } from "./command";

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

export interface HelpTarget {
  /** `deploy.ts`, or `deploy.ts up` for a command. */
  name: string;
  description: string;
  args: ArgsDef;
  /** The root lists its commands. */
  commands?: readonly Command[];
}

/** The help of a program or command, from the same definitions the parser reads. */
export function renderHelp(target: HelpTarget): string {
  const commands = target.commands ?? [];
  const out: string[] = [];
  out.push(...wrap(target.description, WIDTH), "");
  out.push(`Usage: bun ${target.name}${commands.length ? " [command]" : ""} [flags]`, "");
  if (commands.length) {
    out.push(
      "Commands:",
      ...columns(
        commands.map((c) => [c.name, c.description]),
        FLAG_COLUMN,
      ),
      "",
    );
  }
  const flags = Object.entries(target.args).map(([flag, def]): [string, string] => [
    flagLabel(flag, def),
    flagText(def),
  ]);
  if (flags.length) out.push("Flags:", ...columns(flags, FLAG_COLUMN), "");
  const footer = `Flags may be written --a_b, --a-b or --aB, and come before or after the command.${commands.length ? ` Run \`bun ${target.name} <command> --help\` for a command's flags.` : ""}`;
  out.push(...wrap(footer, WIDTH));
  return out.join("\n");
}
