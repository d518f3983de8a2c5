/**
 * Colour for people at a terminal only: never when NO_COLOR is set (any value but empty, as
 * no-color.org asks), never when the stream is not a terminal (pipes, files, CI logs), and
 * FORCE_COLOR (not "0") turns it on regardless. Plain ANSI codes: five colours need no library.
 */
import type { Io } from "./io";

const CODES = { red: 31, green: 32, yellow: 33, dim: 2, bold: 1 } as const;
export type Colour = keyof typeof CODES;

/** Whether output to `io`'s stderr (where people read progress and errors) may be coloured. */
export function colourful(io: Pick<Io, "env" | "tty">): boolean {
  const force = io.env.FORCE_COLOR;
  if (force !== undefined && force !== "" && force !== "0") return true;
  if (io.env.NO_COLOR !== undefined && io.env.NO_COLOR !== "") return false;
  if (io.env.TERM === "dumb") return false;
  return io.tty;
}

export function paint(io: Pick<Io, "env" | "tty">, colour: Colour, text: string): string {
  return colourful(io) ? `\x1b[${CODES[colour]}m${text}\x1b[0m` : text;
}
