/**
 * An image's config (the JSON whose sha256 is its id), read and rewritten: every creation time
 * fixed, the layers it names, labels added. Key order is kept as parsed, so the same input
 * config gives the same bytes.
 */

interface ImageConfig {
  created?: string;
  history?: Array<Record<string, unknown>>;
  rootfs?: { type: string; diff_ids: string[] };
  config?: { Labels?: Record<string, string> | null } & Record<string, unknown>;
  [key: string]: unknown;
}

/**
 * The config with every creation time set to `created`, the given layers, and `labels` added.
 * Key order is kept as parsed, so the same input config gives the same bytes.
 */
export function normalizedConfig(
  config: Buffer,
  options: { created: string; diffIds: string[]; labels?: Record<string, string> },
): Buffer {
  const parsed = JSON.parse(config.toString("utf8")) as ImageConfig;
  parsed.created = options.created;
  for (const entry of parsed.history ?? []) entry.created = options.created;
  parsed.rootfs = { type: "layers", diff_ids: options.diffIds };
  if (options.labels && parsed.config) {
    const labels = { ...(parsed.config.Labels ?? {}), ...options.labels };
    parsed.config.Labels = Object.fromEntries(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : 1)));
  }
  return Buffer.from(JSON.stringify(parsed));
}

/** The creation time a config records (`created`), as a Date for tar headers. */
export function configCreated(config: Buffer): Date {
  const created = (JSON.parse(config.toString("utf8")) as ImageConfig).created;
  const date = created ? new Date(created) : new Date(0);
  if (Number.isNaN(date.getTime())) throw new Error(`image config has an unreadable created time ${created}`);
  return date;
}

/** The labels a config records. */
export function configLabels(config: Buffer): Record<string, string> {
  return (JSON.parse(config.toString("utf8")) as ImageConfig).config?.Labels ?? {};
}
