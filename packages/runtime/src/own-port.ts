/** The port every service listens on unless PORT says otherwise (settings.ts declares PORT with it). */
export const DEFAULT_PORT = 8080;
export const PORT_RANGE = { minimum: 1, maximum: 65535 } as const;

/**
 * PORT read without the settings schema, for `--healthcheck`, which Docker runs every few seconds:
 * loading TypeBox for it costs the check ~40% more CPU. Unset, empty, or a plain number in range
 * gives the port, as the schema would; anything else gives null, and the caller asks the schema,
 * which says exactly what is wrong.
 */
export function plainPort(raw: string | undefined): number | null {
  const text = raw?.trim() ?? "";
  if (text === "") return DEFAULT_PORT;
  if (!/^\d{1,5}$/.test(text)) return null;
  const port = Number(text);
  return port >= PORT_RANGE.minimum && port <= PORT_RANGE.maximum ? port : null;
}
