/**
 * SVG charts as strings, shared by the live dashboard (the server renders them and sends them
 * over Server-Sent Events, so the page needs no chart code) and the HTML report (inlined). One
 * generic line chart with shaded bands, horizontal marks and ticks, and the run's charts built
 * on it from a {@link Timeline}. Every chart is an `<svg role="img">` whose title and description
 * say in words what the picture shows, for screen readers and for copy-paste.
 */
import { LEVEL_RANK, type Timeline } from '../timeline.ts';
import { escapeHtml } from './format.ts';
import { formatBytes, formatCount, formatDuration } from '../../core/format.ts';

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

const num = (n: number): string => String(Math.round(n * 10) / 10);

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

function maxOf(values: Iterable<number>): number {
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
  const leftTicks = niceTicks(Math.max(spec.yMin ?? 0, maxOf(left.flatMap((s) => s.values)), maxOf((spec.rules ?? []).map((r) => r.value))));
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
    out.push(`<rect x="${num(x1)}" y="${margin.top}" width="${num(x2 - x1)}" height="${plotH}" fill="${band.color}" fill-opacity="0.16"><title>${escapeHtml(band.label)}</title></rect>`);
  }
  // grid and axes
  for (const tick of leftTicks) {
    const y = py(tick, leftTop);
    out.push(`<line x1="${margin.left}" x2="${width - margin.right}" y1="${num(y)}" y2="${num(y)}" stroke="${COLORS.grid}" stroke-width="1"/>`);
    out.push(`<text x="${margin.left - 6}" y="${num(y + 4)}" text-anchor="end" fill="${COLORS.axis}">${escapeHtml(spec.yFormat(tick))}</text>`);
  }
  if (hasRight) {
    const format = spec.yRightFormat ?? spec.yFormat;
    for (const tick of rightTicks) {
      const y = py(tick, rightTop);
      out.push(`<text x="${width - margin.right + 6}" y="${num(y + 4)}" fill="${COLORS.axis}">${escapeHtml(format(tick))}</text>`);
    }
  }
  for (const tick of niceTicks(xMax / 1000, 5)) {
    const x = px(tick * 1000);
    if (x > width - margin.right + 0.5) continue;
    out.push(`<text x="${num(x)}" y="${height - 10}" text-anchor="middle" fill="${COLORS.axis}">${escapeHtml(formatDuration(tick * 1000))}</text>`);
  }
  out.push(`<line x1="${margin.left}" x2="${width - margin.right}" y1="${margin.top + plotH}" y2="${margin.top + plotH}" stroke="${COLORS.axis}"/>`);
  // horizontal marks with their labels at the right end
  for (const rule of spec.rules ?? []) {
    if (!(rule.value > 0)) continue;
    const y = py(rule.value, leftTop);
    out.push(
      `<line x1="${margin.left}" x2="${width - margin.right}" y1="${num(y)}" y2="${num(y)}" stroke="${rule.color}" stroke-width="1.5" stroke-dasharray="6 4"><title>${escapeHtml(rule.label)}</title></line>`,
      `<text x="${width - margin.right - 4}" y="${num(y - 4)}" text-anchor="end" fill="${rule.color}">${escapeHtml(rule.label)}</text>`,
    );
  }
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
      const base = num(margin.top + plotH);
      out.push(`<path d="${d}V${base}H${num(px(xs[0] ?? 0))}Z" fill="${series.color}" fill-opacity="0.12" stroke="none"/>`);
    }
    out.push(`<path d="${d}" fill="none" stroke="${series.color}" stroke-width="2" stroke-linejoin="round"${series.dashed ? ' stroke-dasharray="4 3"' : ''}><title>${escapeHtml(series.label)}</title></path>`);
  }
  for (const tick of spec.ticks ?? []) {
    const x = num(px(tick.at));
    out.push(`<line x1="${x}" x2="${x}" y1="${margin.top + plotH}" y2="${margin.top + plotH - 10}" stroke="${tick.color}" stroke-width="2"><title>${escapeHtml(tick.label)}</title></line>`);
  }
  // legend along the top
  let lx = margin.left;
  const legend: { label: string; color: string; band?: boolean }[] = [
    ...spec.series.map((s) => ({ label: s.axis === 'right' && !hasOnlyRight(spec) ? `${s.label} (right)` : s.label, color: s.color })),
    ...uniqueBands(spec.bands ?? []).map((b) => ({ label: b.label.split(':')[0] ?? b.label, color: b.color, band: true })),
  ];
  for (const item of legend) {
    out.push(`<rect x="${lx}" y="10" width="12" height="12" fill="${item.color}"${item.band ? ' fill-opacity="0.3"' : ''}/>`);
    out.push(`<text x="${lx + 16}" y="20" fill="${COLORS.text}">${escapeHtml(item.label)}</text>`);
    lx += 16 + item.label.length * 6.6 + 14;
  }
  if (xs.length === 0) out.push(`<text x="${width / 2}" y="${height / 2}" text-anchor="middle" fill="${COLORS.axis}">no data yet</text>`);
  out.push('</svg>');
  return out.join('');
}

function hasOnlyRight(spec: ChartSpec): boolean {
  return spec.series.every((s) => s.axis === 'right');
}

function uniqueBands(bands: readonly ChartBand[]): ChartBand[] {
  const seen = new Map<string, ChartBand>();
  for (const band of bands) seen.set(band.color, seen.get(band.color) ?? band);
  return [...seen.values()];
}

/** Spans of consecutive points whose level is at least `min` (and below `below`), as x ranges. */
export function levelSpans(tl: Timeline, min: number, below = Infinity): { from: number; to: number }[] {
  const spans: { from: number; to: number }[] = [];
  const level = tl.level ?? [];
  let start: number | undefined;
  for (let i = 0; i < level.length; i++) {
    const l = level[i] ?? 0;
    const inside = l >= min && l < below;
    // a point's level covers the interval that ends at it
    const from = i > 0 ? (tl.t[i - 1] ?? 0) : (tl.t[0] ?? 0);
    if (inside && start === undefined) start = from;
    if (!inside && start !== undefined) {
      spans.push({ from: start, to: from });
      start = undefined;
    }
  }
  if (start !== undefined) spans.push({ from: start, to: tl.t[tl.t.length - 1] ?? start });
  return spans;
}

/** Points where the spilled bytes grew: one tick each, labelled with the bytes spilled there. */
export function spillTicks(tl: Timeline): ChartTick[] {
  const ticks: ChartTick[] = [];
  for (let i = 1; i < tl.spilledBytes.length; i++) {
    const grew = (tl.spilledBytes[i] ?? 0) - (tl.spilledBytes[i - 1] ?? 0);
    if (grew > 0) ticks.push({ at: tl.t[i] ?? 0, label: `spilled ${formatBytes(grew)}`, color: COLORS.spill });
  }
  return ticks;
}

/**
 * Per point, the rate of a cumulative column per second, over the window of about a second (at
 * least two intervals) that ends there: rates over single short intervals are too spiky to read.
 */
export function rates(tl: Timeline, column: readonly number[], windowMs = Math.max(1000, 2 * tl.intervalMs)): number[] {
  let j = 0;
  return column.map((v, i) => {
    const t = tl.t[i] ?? 0;
    while (j < i - 1 && t - (tl.t[j + 1] ?? 0) >= windowMs) j++;
    if (i === 0) return 0;
    const dt = (t - (tl.t[j] ?? 0)) / 1000;
    return dt > 0 ? Math.max(0, (v - (column[j] ?? 0)) / dt) : 0;
  });
}

/** Figures the charts label with, beside the timeline. */
export interface ChartContext {
  /** Rows the source will produce, when known. */
  rowsTotal?: number;
  /** Bytes the source will read, when known. */
  bytesTotal?: number;
  /** Prefix for element ids (several sets of charts on one page). */
  idPrefix?: string;
}

/** The run's charts, each an SVG string. */
export interface RunCharts {
  progress: string;
  throughput: string;
  memory: string;
  batches: string;
}

const last = (values: readonly number[]): number => values[values.length - 1] ?? 0;

/** Rows and bytes read over time, on two axes. */
export function progressChart(tl: Timeline, context: ChartContext = {}): string {
  const rows = last(tl.rows);
  const bytes = last(tl.bytes);
  const totals = context.rowsTotal !== undefined ? ` of ${formatCount(context.rowsTotal)}` : '';
  return lineChart({
    id: `${context.idPrefix ?? ''}progress`,
    title: 'Rows and bytes read',
    description: `${formatCount(rows)}${totals} rows and ${formatBytes(bytes)} read in ${formatDuration(last(tl.t))}.`,
    x: tl.t,
    series: [
      { label: 'rows', values: tl.rows, color: COLORS.rows, fill: true },
      // sources that read no file (iterables) have no bytes to draw
      ...(bytes > 0 ? [{ label: 'bytes', values: tl.bytes, color: COLORS.bytes, axis: 'right' as const, dashed: true }] : []),
    ],
    yFormat: formatCount,
    yRightFormat: formatBytes,
    ...(context.rowsTotal !== undefined ? { rules: [{ value: context.rowsTotal, label: `total ${formatCount(context.rowsTotal)} rows`, color: COLORS.axis }] } : {}),
  });
}

/** Rows per second and bytes per second over time. */
export function throughputChart(tl: Timeline, context: ChartContext = {}): string {
  const rowRates = rates(tl, tl.rows);
  const byteRates = rates(tl, tl.bytes);
  const seconds = last(tl.t) / 1000;
  const mean = seconds > 0 ? last(tl.rows) / seconds : 0;
  const hasBytes = last(tl.bytes) > 0;
  return lineChart({
    id: `${context.idPrefix ?? ''}throughput`,
    title: 'Throughput',
    description: `Mean ${formatCount(mean)} rows/s; peak ${formatCount(maxOf(rowRates))} rows/s${hasBytes ? ` and ${formatBytes(maxOf(byteRates))}/s` : ''}.`,
    x: tl.t,
    series: [
      { label: 'rows/s', values: rowRates, color: COLORS.rows },
      ...(hasBytes ? [{ label: 'bytes/s', values: byteRates, color: COLORS.bytes, axis: 'right' as const, dashed: true }] : []),
    ],
    yFormat: formatCount,
    yRightFormat: (v) => `${formatBytes(v)}/s`,
    bands: pauseBands(tl),
  });
}

function pauseBands(tl: Timeline): ChartBand[] {
  return [
    ...levelSpans(tl, LEVEL_RANK.spill, LEVEL_RANK.pause).map((s) => ({ ...s, color: COLORS.spill, label: `spill level: ${formatDuration(s.from)} to ${formatDuration(s.to)}` })),
    ...levelSpans(tl, LEVEL_RANK.pause).map((s) => ({ ...s, color: COLORS.pause, label: `paused: ${formatDuration(s.from)} to ${formatDuration(s.to)}` })),
  ];
}

/** RSS, heap and children's memory with the governor's marks across, pauses and spills shaded. */
export function memoryChart(tl: Timeline, context: ChartContext = {}): string {
  const id = `${context.idPrefix ?? ''}memory`;
  if (!tl.rss || !tl.memory) {
    return lineChart({ id, title: 'Memory', description: 'Memory was not governed in this run (governor: false).', x: [], series: [], yFormat: formatBytes });
  }
  const m = tl.memory;
  const paused = levelSpans(tl, LEVEL_RANK.pause);
  const ticks = spillTicks(tl);
  const series: ChartSeries[] = [
    { label: 'RSS', values: tl.rss, color: COLORS.rss, fill: true },
    { label: 'heap used', values: tl.heapUsed ?? [], color: COLORS.heap },
  ];
  if (maxOf(tl.children ?? []) > 0) series.push({ label: 'child processes', values: tl.children ?? [], color: COLORS.children });
  // marks far above the data would flatten the lines: draw those within 3x of the peak
  const peak = Math.max(maxOf(tl.rss), maxOf(tl.heapUsed ?? []), maxOf(tl.children ?? []));
  const rules: ChartRule[] = [
    { value: m.spill, label: `spill ${formatBytes(m.spill)}`, color: COLORS.spill },
    { value: m.pause, label: `pause ${formatBytes(m.pause)}`, color: COLORS.pause },
    { value: m.critical, label: `critical ${formatBytes(m.critical)}`, color: COLORS.critical },
  ].filter((r) => r.value <= Math.max(peak * 3, m.spill));
  const hidden = 3 - rules.length;
  return lineChart({
    id,
    title: 'Memory',
    description:
      `RSS peaked at ${formatBytes(maxOf(tl.rss))} of a ${formatBytes(m.limit)} limit (spill at ${formatBytes(m.spill)}, pause at ${formatBytes(m.pause)}, critical at ${formatBytes(m.critical)}); ` +
      `heap used peaked at ${formatBytes(maxOf(tl.heapUsed ?? []))}; ${paused.length === 0 ? 'never paused' : `paused ${paused.length} time(s)`}; ${ticks.length === 0 ? 'no spills' : `${ticks.length} spill(s)`}.` +
      (hidden > 0 ? ` ${hidden} mark(s) far above the peak are not drawn.` : ''),
    x: tl.t,
    series,
    yFormat: formatBytes,
    rules,
    bands: pauseBands(tl),
    ticks,
  });
}

/** The batch sizes the sources chose, over time. */
export function batchChart(tl: Timeline, context: ChartContext = {}): string {
  const sizes = tl.batchRows.filter((v) => v > 0);
  return lineChart({
    id: `${context.idPrefix ?? ''}batches`,
    title: 'Batch size',
    description: sizes.length === 0 ? 'No batch yet.' : `Rows per batch from ${formatCount(Math.min(...sizes))} to ${formatCount(maxOf(sizes))}, latest ${formatCount(last(tl.batchRows))}.`,
    x: tl.t,
    series: [{ label: 'rows per batch', values: tl.batchRows, color: COLORS.batch, step: true }],
    yFormat: formatCount,
    bands: pauseBands(tl),
  });
}

/** Every chart of a run. */
export function runCharts(tl: Timeline, context: ChartContext = {}): RunCharts {
  return {
    progress: progressChart(tl, context),
    throughput: throughputChart(tl, context),
    memory: memoryChart(tl, context),
    batches: batchChart(tl, context),
  };
}
