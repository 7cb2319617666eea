/**
 * One generic SVG line chart as a string: series on a left and an optional right axis, shaded
 * bands, horizontal marks, ticks and a legend. The run's charts (charts.ts) are built on it.
 */
import { escapeHtml } from './format.ts';
import { formatDuration } from '../../core/format.ts';

/** One line of a chart. */
export interface ChartSeries {
  label: string;
  values: readonly number[];
  /** Stroke colour (CSS colour). */
  color: string;
  /** Which y axis it is read on. Default `left`. */
  axis?: 'left' | 'right';
  /** Draw as steps (a value holds until the next point). */
  step?: boolean;
  /** Fill the area under the line lightly. */
  fill?: boolean;
  /** Dashed stroke. */
  dashed?: boolean;
}

/** A shaded span of x, e.g. a pause. */
export interface ChartBand {
  from: number;
  to: number;
  color: string;
  label: string;
}

/** A horizontal line across the chart at a y value (left axis), e.g. a memory mark. */
export interface ChartRule {
  value: number;
  label: string;
  color: string;
}

/** A short vertical tick at an x value, e.g. a spill. */
export interface ChartTick {
  at: number;
  label: string;
  color: string;
}

/** What {@link lineChart} draws. */
export interface ChartSpec {
  /** Unique within the page: prefixes the ids of the title and description. */
  id: string;
  title: string;
  /** Said in words: what the chart shows and its key figures. */
  description: string;
  /** x values (ms since the start), ascending; one per value of each series. */
  x: readonly number[];
  series: readonly ChartSeries[];
  /** Formats left axis values. */
  yFormat: (value: number) => string;
  /** Formats right axis values (when a series uses it). */
  yRightFormat?: (value: number) => string;
  bands?: readonly ChartBand[];
  rules?: readonly ChartRule[];
  ticks?: readonly ChartTick[];
  /** Least top of the left axis (e.g. a known total). */
  yMin?: number;
  width?: number;
  height?: number;
}

/** The chart colours (readable on white, distinct for common colour blindness). */
export const COLORS = {
  rows: '#1f6feb',
  bytes: '#8250df',
  rss: '#0969da',
  heap: '#1a7f37',
  children: '#bf8700',
  spill: '#d4a72c',
  pause: '#cf222e',
  critical: '#82071e',
  batch: '#0550ae',
  grid: '#d0d7de',
  axis: '#57606a',
  text: '#24292f',
} as const;

/** A coordinate with one decimal. */
export const num = (n: number): string => String(Math.round(n * 10) / 10);

/** Up to about `count` round tick values from 0 to at least `max`. */
export function niceTicks(max: number, count = 4): number[] {
  if (!(max > 0) || !Number.isFinite(max)) return [0, 1];
  const raw = max / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = ([1, 2, 2.5, 5, 10].find((m) => m * power >= raw) ?? 10) * power;
  const ticks: number[] = [];
  for (let v = 0; v < max + step * 0.999; v += step) ticks.push(Math.round(v / step) * step);
  return ticks;
}

/** The largest finite value, at least 0. */
export function maxOf(values: Iterable<number>): number {
  let max = 0;
  for (const v of values) if (Number.isFinite(v) && v > max) max = v;
  return max;
}

/** Renders a line chart as an SVG string. */
export function lineChart(spec: ChartSpec): string {
  const width = spec.width ?? 640;
  const height = spec.height ?? 220;
  const hasRight = spec.series.some((s) => s.axis === 'right');
  const margin = { left: 64, right: hasRight ? 64 : 20, top: 30, bottom: 30 };
  const plotW = width - margin.left - margin.right;
  const plotH = height - margin.top - margin.bottom;
  const xs = spec.x;
  const xMax = Math.max(1, maxOf(xs));
  const left = spec.series.filter((s) => s.axis !== 'right');
  const right = spec.series.filter((s) => s.axis === 'right');
  const leftTicks = niceTicks(
    Math.max(spec.yMin ?? 0, maxOf(left.flatMap((s) => s.values)), maxOf((spec.rules ?? []).map((r) => r.value))),
  );
  const rightTicks = niceTicks(maxOf(right.flatMap((s) => s.values)));
  const leftTop = leftTicks[leftTicks.length - 1] ?? 1;
  const rightTop = rightTicks[rightTicks.length - 1] ?? 1;
  const px = (x: number): number => margin.left + (x / xMax) * plotW;
  const py = (y: number, top: number): number => margin.top + plotH - (Math.min(y, top) / top) * plotH;
  const id = escapeHtml(spec.id);
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" role="img" aria-labelledby="${id}-title ${id}-desc" font-family="system-ui, sans-serif" font-size="12">`,
    `<title id="${id}-title">${escapeHtml(spec.title)}</title>`,
    `<desc id="${id}-desc">${escapeHtml(spec.description)}</desc>`,
    `<rect x="0" y="0" width="${width}" height="${height}" fill="#ffffff"/>`,
  );
  // shaded spans first, under everything
  for (const band of spec.bands ?? []) {
    const x1 = px(Math.max(0, band.from));
    const x2 = Math.max(x1 + 1.5, px(Math.min(xMax, band.to)));
    out.push(
      `<rect x="${num(x1)}" y="${margin.top}" width="${num(x2 - x1)}" height="${plotH}" fill="${band.color}" fill-opacity="0.16"><title>${escapeHtml(band.label)}</title></rect>`,
    );
  }
  // grid and axes
  for (const tick of leftTicks) {
    const y = py(tick, leftTop);
    out.push(
      `<line x1="${margin.left}" x2="${width - margin.right}" y1="${num(y)}" y2="${num(y)}" stroke="${COLORS.grid}" stroke-width="1"/>`,
    );
    out.push(
      `<text x="${margin.left - 6}" y="${num(y + 4)}" text-anchor="end" fill="${COLORS.axis}">${escapeHtml(spec.yFormat(tick))}</text>`,
    );
  }
  if (hasRight) {
    const format = spec.yRightFormat ?? spec.yFormat;
    for (const tick of rightTicks) {
      const y = py(tick, rightTop);
      out.push(
        `<text x="${width - margin.right + 6}" y="${num(y + 4)}" fill="${COLORS.axis}">${escapeHtml(format(tick))}</text>`,
      );
    }
  }
  for (const tick of niceTicks(xMax / 1000, 5)) {
    const x = px(tick * 1000);
    if (x > width - margin.right + 0.5) continue;
    out.push(
      `<text x="${num(x)}" y="${height - 10}" text-anchor="middle" fill="${COLORS.axis}">${escapeHtml(formatDuration(tick * 1000))}</text>`,
    );
  }
  out.push(
    `<line x1="${margin.left}" x2="${width - margin.right}" y1="${margin.top + plotH}" y2="${margin.top + plotH}" stroke="${COLORS.axis}"/>`,
  );
  // horizontal marks with their labels at the right end
  for (const rule of spec.rules ?? []) {
    if (!(rule.value > 0)) continue;
    const y = py(rule.value, leftTop);
    out.push(
      `<line x1="${margin.left}" x2="${width - margin.right}" y1="${num(y)}" y2="${num(y)}" stroke="${rule.color}" stroke-width="1.5" stroke-dasharray="6 4"><title>${escapeHtml(rule.label)}</title></line>`,
      `<text x="${width - margin.right - 4}" y="${num(y - 4)}" text-anchor="end" fill="${rule.color}">${escapeHtml(rule.label)}</text>`,
    );
  }
  out.push(
    ...seriesSvg(spec, { px, py, leftTop, rightTop, base: margin.top + plotH }),
    ...legendSvg(spec, margin.left),
  );
  if (xs.length === 0)
    out.push(`<text x="${width / 2}" y="${height / 2}" text-anchor="middle" fill="${COLORS.axis}">no data yet</text>`);
  out.push('</svg>');
  return out.join('');
}

/** Where a chart's points go: x and y in pixels, each axis's top value, the plot's bottom edge. */
interface Plot {
  px: (x: number) => number;
  py: (y: number, top: number) => number;
  leftTop: number;
  rightTop: number;
  base: number;
}

/** The series' paths (filled under when asked) and the tick marks on the x axis. */
function seriesSvg(spec: ChartSpec, plot: Plot): string[] {
  const { px, py, leftTop, rightTop } = plot;
  const xs = spec.x;
  const out: string[] = [];
  // the series
  for (const series of spec.series) {
    const top = series.axis === 'right' ? rightTop : leftTop;
    const n = Math.min(series.values.length, xs.length);
    if (n === 0) continue;
    let d = '';
    for (let i = 0; i < n; i++) {
      const x = num(px(xs[i] ?? 0));
      const y = num(py(series.values[i] ?? 0, top));
      if (i === 0) d += `M${x},${y}`;
      else if (series.step) d += `H${x}V${y}`;
      else d += `L${x},${y}`;
    }
    if (series.fill) {
      const base = num(plot.base);
      out.push(
        `<path d="${d}V${base}H${num(px(xs[0] ?? 0))}Z" fill="${series.color}" fill-opacity="0.12" stroke="none"/>`,
      );
    }
    out.push(
      `<path d="${d}" fill="none" stroke="${series.color}" stroke-width="2" stroke-linejoin="round"${series.dashed ? ' stroke-dasharray="4 3"' : ''}><title>${escapeHtml(series.label)}</title></path>`,
    );
  }
  for (const tick of spec.ticks ?? []) {
    const x = num(px(tick.at));
    out.push(
      `<line x1="${x}" x2="${x}" y1="${plot.base}" y2="${plot.base - 10}" stroke="${tick.color}" stroke-width="2"><title>${escapeHtml(tick.label)}</title></line>`,
    );
  }
  return out;
}

/** The legend along the top: one swatch per series, then one per kind of shaded span. */
function legendSvg(spec: ChartSpec, left: number): string[] {
  const out: string[] = [];
  // legend along the top
  let lx = left;
  const legend: { label: string; color: string; band?: boolean }[] = [
    ...spec.series.map((s) => ({
      label: s.axis === 'right' && !hasOnlyRight(spec) ? `${s.label} (right)` : s.label,
      color: s.color,
    })),
    ...uniqueBands(spec.bands ?? []).map((b) => ({
      label: b.label.split(':')[0] ?? b.label,
      color: b.color,
      band: true,
    })),
  ];
  for (const item of legend) {
    out.push(
      `<rect x="${lx}" y="10" width="12" height="12" fill="${item.color}"${item.band ? ' fill-opacity="0.3"' : ''}/>`,
    );
    out.push(`<text x="${lx + 16}" y="20" fill="${COLORS.text}">${escapeHtml(item.label)}</text>`);
    lx += 16 + item.label.length * 6.6 + 14;
  }
  return out;
}

function hasOnlyRight(spec: ChartSpec): boolean {
  return spec.series.every((s) => s.axis === 'right');
}

function uniqueBands(bands: readonly ChartBand[]): ChartBand[] {
  const seen = new Map<string, ChartBand>();
  for (const band of bands) seen.set(band.color, seen.get(band.color) ?? band);
  return [...seen.values()];
}
