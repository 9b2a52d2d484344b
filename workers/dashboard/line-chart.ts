/**
 * A line chart drawn as SVG, pure: one point per window (a circle with its value in a <title>),
 * joined by a polyline, with a few labelled ticks on each axis. Windows are placed by number, so
 * a window without a value leaves a visible gap in the spacing, not a silent one.
 */

/** One point of a series: a window and its value. */
export interface ChartPoint {
  readonly window: number;
  readonly value: number;
}

export interface LineChartOptions {
  /** Names the chart for screen readers and tests (aria-label and data-chart). */
  readonly label: string;
  /** Unit or name of the value, shown beside the y axis and in each point's title. */
  readonly yLabel: string;
  readonly width?: number;
  readonly height?: number;
  /** Digits after the decimal point in the y ticks and titles. */
  readonly digits?: number;
}

const MARGIN = { top: 16, right: 20, bottom: 36, left: 64 } as const;
const TICKS = 4;

/** Escapes text for an SVG attribute or text node. */
function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Rounds a coordinate to 0.1 px: enough for the eye, short in the markup. */
function px(v: number): string {
  return String(Math.round(v * 10) / 10);
}

/** Evenly spaced integer windows from first to last (at most `n`, ends included). */
function windowTicks(first: number, last: number, n: number): number[] {
  if (first === last) return [first];
  const ticks = new Set<number>();
  for (let i = 0; i < n; i++) ticks.add(Math.round(first + ((last - first) * i) / (n - 1)));
  return [...ticks];
}

/** The SVG markup of a line chart of `points` (sorted by window here); a note when there are none. */
export function lineChart(points: readonly ChartPoint[], opts: LineChartOptions): string {
  const width = opts.width ?? 720;
  const height = opts.height ?? 240;
  const digits = opts.digits ?? 3;
  const label = escapeXml(opts.label);
  const open = `<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" aria-label="${label}" data-chart="${label}" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}">`;
  const finite = points.filter((p) => Number.isFinite(p.value)).sort((a, b) => a.window - b.window);
  if (!finite.length) {
    return `${open}<text x="${width / 2}" y="${height / 2}" text-anchor="middle" class="empty">no data yet</text></svg>`;
  }
  const first = (finite[0] as ChartPoint).window;
  const last = (finite[finite.length - 1] as ChartPoint).window;
  let lo = Math.min(...finite.map((p) => p.value));
  let hi = Math.max(...finite.map((p) => p.value));
  if (lo === hi) {
    // A flat series still needs a y range: centre it.
    const pad = Math.abs(lo) * 0.05 || 1;
    lo -= pad;
    hi += pad;
  }
  const plotW = width - MARGIN.left - MARGIN.right;
  const plotH = height - MARGIN.top - MARGIN.bottom;
  const x = (w: number) => MARGIN.left + (first === last ? plotW / 2 : ((w - first) / (last - first)) * plotW);
  const y = (v: number) => MARGIN.top + (1 - (v - lo) / (hi - lo)) * plotH;

  const parts: string[] = [open];
  const bottom = MARGIN.top + plotH;
  parts.push(
    `<line class="axis" x1="${MARGIN.left}" y1="${bottom}" x2="${MARGIN.left + plotW}" y2="${bottom}"/>`,
    `<line class="axis" x1="${MARGIN.left}" y1="${MARGIN.top}" x2="${MARGIN.left}" y2="${bottom}"/>`,
  );
  for (let i = 0; i <= TICKS; i++) {
    const v = lo + ((hi - lo) * i) / TICKS;
    const ty = px(y(v));
    parts.push(
      `<line class="grid" x1="${MARGIN.left}" y1="${ty}" x2="${MARGIN.left + plotW}" y2="${ty}"/>`,
      `<text class="tick" x="${MARGIN.left - 6}" y="${ty}" text-anchor="end" dominant-baseline="middle">${v.toFixed(digits)}</text>`,
    );
  }
  for (const w of windowTicks(first, last, 6)) {
    parts.push(`<text class="tick" x="${px(x(w))}" y="${bottom + 16}" text-anchor="middle">${w}</text>`);
  }
  parts.push(
    `<text class="axis-label" x="${MARGIN.left + plotW / 2}" y="${height - 4}" text-anchor="middle">window</text>`,
    `<text class="axis-label" x="12" y="${MARGIN.top + plotH / 2}" text-anchor="middle" transform="rotate(-90 12 ${MARGIN.top + plotH / 2})">${escapeXml(opts.yLabel)}</text>`,
    `<polyline class="line" fill="none" points="${finite.map((p) => `${px(x(p.window))},${px(y(p.value))}`).join(" ")}"/>`,
  );
  for (const p of finite) {
    parts.push(
      `<circle class="point" data-window="${p.window}" data-value="${p.value}" cx="${px(x(p.window))}" cy="${px(y(p.value))}" r="3"><title>window ${p.window}: ${escapeXml(opts.yLabel)} ${p.value.toFixed(digits)}</title></circle>`,
    );
  }
  parts.push("</svg>");
  return parts.join("");
}
