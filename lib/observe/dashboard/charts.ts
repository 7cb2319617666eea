/**
 * SVG charts as strings, shared by the live dashboard (the server renders them and sends them
 * over Server-Sent Events, so the page needs no chart code) and the HTML report (inlined). One
 * generic line chart with shaded bands, horizontal marks and ticks, and the run's charts built
 * on it from a {@link Timeline}. Every chart is an `<svg role="img">` whose title and description
 * say in words what the picture shows, for screen readers and for copy-paste.
 */
import { LEVEL_RANK, type Timeline } from '../timeline.ts';
import { formatBytes, formatCount, formatDuration } from '../../core/format.ts';
import {
  COLORS,
  maxOf,
  lineChart,
  type ChartSeries,
  type ChartBand,
  type ChartRule,
  type ChartTick,
} from './line-chart.ts';

export {
  lineChart,
  niceTicks,
  type ChartBand,
  type ChartRule,
  type ChartSeries,
  type ChartSpec,
  type ChartTick,
} from './line-chart.ts';

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
      ...(bytes > 0
        ? [{ label: 'bytes', values: tl.bytes, color: COLORS.bytes, axis: 'right' as const, dashed: true }]
        : []),
    ],
    yFormat: formatCount,
    yRightFormat: formatBytes,
    ...(context.rowsTotal !== undefined
      ? {
          rules: [
            { value: context.rowsTotal, label: `total ${formatCount(context.rowsTotal)} rows`, color: COLORS.axis },
          ],
        }
      : {}),
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
      ...(hasBytes
        ? [{ label: 'bytes/s', values: byteRates, color: COLORS.bytes, axis: 'right' as const, dashed: true }]
        : []),
    ],
    yFormat: formatCount,
    yRightFormat: (v) => `${formatBytes(v)}/s`,
    bands: pauseBands(tl),
  });
}

function pauseBands(tl: Timeline): ChartBand[] {
  return [
    ...levelSpans(tl, LEVEL_RANK.spill, LEVEL_RANK.pause).map((s) => ({
      ...s,
      color: COLORS.spill,
      label: `spill level: ${formatDuration(s.from)} to ${formatDuration(s.to)}`,
    })),
    ...levelSpans(tl, LEVEL_RANK.pause).map((s) => ({
      ...s,
      color: COLORS.pause,
      label: `paused: ${formatDuration(s.from)} to ${formatDuration(s.to)}`,
    })),
  ];
}

/** RSS, heap and children's memory with the governor's marks across, pauses and spills shaded. */
export function memoryChart(tl: Timeline, context: ChartContext = {}): string {
  const id = `${context.idPrefix ?? ''}memory`;
  if (!tl.rss || !tl.memory) {
    return lineChart({
      id,
      title: 'Memory',
      description: 'Memory was not governed in this run (governor: false).',
      x: [],
      series: [],
      yFormat: formatBytes,
    });
  }
  const m = tl.memory;
  const paused = levelSpans(tl, LEVEL_RANK.pause);
  const ticks = spillTicks(tl);
  const series: ChartSeries[] = [
    { label: 'RSS', values: tl.rss, color: COLORS.rss, fill: true },
    { label: 'heap used', values: tl.heapUsed ?? [], color: COLORS.heap },
  ];
  if (maxOf(tl.children ?? []) > 0)
    series.push({ label: 'child processes', values: tl.children ?? [], color: COLORS.children });
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
    description:
      sizes.length === 0
        ? 'No batch yet.'
        : `Rows per batch from ${formatCount(Math.min(...sizes))} to ${formatCount(maxOf(sizes))}, latest ${formatCount(last(tl.batchRows))}.`,
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
