/** A tiny horizontal bar chart as standalone SVG: one bar per label, optional min–max whisker. */

export interface Bar {
  label: string;
  value: number;
  min?: number;
  max?: number;
  /** Highlight (e.g. the service under test); drawn in the accent colour. */
  accent?: boolean;
}

export interface BarChartOptions {
  title: string;
  unit: string;
  bars: Bar[];
  /** A vertical reference line, e.g. a goal. */
  reference?: { value: number; label: string };
  width?: number;
}

export function escapeXml(text: string): string {
  return text
    .replaceAll("&", "&amp;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;")
    .replaceAll("'", "&apos;");
}

/** Up to 3 significant digits, without exponent notation. */
export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return "n/a";
  const abs = Math.abs(value);
  if (abs >= 100) return Math.round(value).toLocaleString("en-US");
  if (abs >= 10) return value.toFixed(1);
  return value.toFixed(2);
}

const BAR_HEIGHT = 22;
const GAP = 10;
const LABEL_WIDTH = 190;
const TOP = 40;

export function barChart(options: BarChartOptions): string {
  const width = options.width ?? 720;
  const plotWidth = width - LABEL_WIDTH - 110;
  const finite = options.bars.flatMap((b) => [b.value, b.max ?? b.value]).filter(Number.isFinite);
  if (options.reference) finite.push(options.reference.value);
  const scaleMax = Math.max(...finite, Number.MIN_VALUE);
  const x = (v: number): number => LABEL_WIDTH + (Math.max(0, v) / scaleMax) * plotWidth;
  const height = TOP + options.bars.length * (BAR_HEIGHT + GAP) + 20;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12" role="img">`,
    `<title>${escapeXml(options.title)}</title>`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="10" y="22" font-size="15" font-weight="bold">${escapeXml(options.title)}</text>`,
  ];
  options.bars.forEach((bar, i) => {
    const y = TOP + i * (BAR_HEIGHT + GAP);
    const measured = Number.isFinite(bar.value);
    const w = measured ? x(bar.value) - LABEL_WIDTH : 0;
    parts.push(
      `<text x="${LABEL_WIDTH - 8}" y="${y + 15}" text-anchor="end">${escapeXml(bar.label)}</text>`,
      `<rect class="bar" data-label="${escapeXml(bar.label)}" data-value="${measured ? bar.value : ""}" x="${LABEL_WIDTH}" y="${y}" width="${w.toFixed(1)}" height="${BAR_HEIGHT}" fill="${bar.accent ? "#d9480f" : "#4c6ef5"}"/>`,
    );
    if (measured && bar.min !== undefined && bar.max !== undefined) {
      const cy = y + BAR_HEIGHT / 2;
      parts.push(
        `<line x1="${x(bar.min).toFixed(1)}" y1="${cy}" x2="${x(bar.max).toFixed(1)}" y2="${cy}" stroke="#212529" stroke-width="1.5"/>`,
        `<line x1="${x(bar.min).toFixed(1)}" y1="${cy - 5}" x2="${x(bar.min).toFixed(1)}" y2="${cy + 5}" stroke="#212529"/>`,
        `<line x1="${x(bar.max).toFixed(1)}" y1="${cy - 5}" x2="${x(bar.max).toFixed(1)}" y2="${cy + 5}" stroke="#212529"/>`,
      );
    }
    const end = measured ? Math.max(x(bar.value), bar.max !== undefined ? x(bar.max) : 0) : LABEL_WIDTH;
    const text = measured ? `${formatNumber(bar.value)} ${options.unit}` : "not measured";
    parts.push(`<text x="${(end + 6).toFixed(1)}" y="${y + 15}">${escapeXml(text)}</text>`);
  });
  if (options.reference) {
    const rx = x(options.reference.value).toFixed(1);
    parts.push(
      `<line x1="${rx}" y1="${TOP - 6}" x2="${rx}" y2="${height - 14}" stroke="#2b8a3e" stroke-dasharray="4 3"/>`,
      `<text x="${rx}" y="${height - 2}" text-anchor="middle" fill="#2b8a3e">${escapeXml(options.reference.label)}</text>`,
    );
  }
  parts.push("</svg>");
  return `${parts.join("\n")}\n`;
}
