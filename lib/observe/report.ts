/**
 * `formatReport(stats)`: a pipeline's final stats for people (a compact multi-line text) or as
 * JSON. The stats object itself stays plain and JSON-serialisable; this only renders it.
 */
import { ValidationError, describeValue } from '../core/errors.ts';
import { expectOptions, optionKeys } from '../core/validate.ts';
import { terminalSafe } from './terminal-text.ts';
import { formatBytes, formatCount, formatDuration, formatExact, formatRate } from '../core/format.ts';
import type { PipelineStats } from '../core/stats.ts';
import { formatHtmlReport } from './dashboard/report-html.ts';

/** Options of {@link formatReport}. */
export interface ReportOptions {
  /** `'text'` (default): lines for people; `'json'`: the stats as indented JSON. */
  format?: 'text' | 'json' | 'html';
  /** A title for the first line (e.g. the script or the command). */
  title?: string;
}

const FORMATS = ['text', 'json', 'html'] as const;

/** Every option of ReportOptions, for strict validation. */
const KNOWN_REPORT_OPTIONS = optionKeys<ReportOptions>({ format: true, title: true });
/**
 * Renders a pipeline's stats: rows in and out, bytes, duration, throughput, a per-stage table,
 * per-worker lines (parallel stages), the memory summary (peak/mean RSS, time paused, pressure
 * events, leak warnings), spills, and rows dropped by error policy.
 *
 * @example
 * ```ts
 * const { stats } = await pipeline(fromCsv('in.csv'), map(clean), toParquet('out.parquet'));
 * console.error(formatReport(stats));
 * ```
 */
export function formatReport(stats: PipelineStats, options?: ReportOptions): string {
  const o = expectOptions(options, 'options', KNOWN_REPORT_OPTIONS);
  const format = o.format ?? 'text';
  if (!(FORMATS as readonly string[]).includes(format)) {
    throw new ValidationError(
      `Expected \`options.format\` to be one of ${FORMATS.join(', ')}, got ${describeValue(format)}`,
    );
  }
  if (format === 'json') return JSON.stringify(stats, null, 2);
  // one self-contained file: inline CSS and SVG charts of stats.timeline, no script, no request
  if (format === 'html') return formatHtmlReport(stats, o.title ?? 'spillway run report');
  // names and messages come from user code and input files: no escape sequence reaches the terminal
  return terminalSafe(textReport(stats, o.title));
}

/** Shorter runs say little about RSS growth per minute: it is left out. */
const GROWTH_MIN_MS = 10_000;

const plural = (count: number, word: string, many = `${word}s`): string => `${n(count)} ${count === 1 ? word : many}`;

const n = formatExact;

function rate(count: number, ms: number): number {
  return ms > 0 ? (count / ms) * 1000 : 0;
}

function textReport(s: PipelineStats, title: string | undefined): string {
  const lines: string[] = [];
  const head = title ? `${title}: ` : '';
  lines.push(
    `${head}${n(s.rowsIn)} rows in, ${n(s.rowsOut)} rows out in ${formatDuration(s.durationMs)} (${formatRate(rate(s.rowsIn, s.durationMs), 'rows')})`,
  );
  const read =
    s.bytesRead > 0
      ? `read ${formatBytes(s.bytesRead)} (${formatRate(rate(s.bytesRead, s.durationMs), 'bytes')}), `
      : '';
  lines.push(`  ${read}${plural(s.batchesIn, 'batch', 'batches')} in, ${n(s.batchesOut)} out; started ${s.startedAt}`);

  // per stage
  const header = ['stage', 'kind', 'rows in', 'rows out', 'batches', 'time', 'dropped'];
  const rows = s.stages.map((stage) => [
    stage.name,
    stage.kind,
    stage.kind === 'source' ? '-' : n(stage.rowsIn),
    stage.kind === 'sink' ? '-' : n(stage.rowsOut),
    n(stage.kind === 'source' ? stage.batchesOut : stage.batchesIn),
    formatDuration(stage.timeMs),
    stage.rowsSkipped > 0 ? n(stage.rowsSkipped) : '',
  ]);
  lines.push(...table(header, rows, [false, false, true, true, true, true, true]).map((line) => `  ${line}`));
  for (const stage of s.stages) {
    const details = Object.entries(stage.details);
    if (details.length > 0)
      lines.push(
        `    ${stage.name}: ${details.map(([k, v]) => `${k}=${typeof v === 'number' && /bytes/i.test(k) ? formatBytes(v) : String(v)}`).join(', ')}`,
      );
  }

  // per worker
  if (s.workers && s.workers.length > 0) {
    const wHeader = ['worker', 'stage', 'batches', 'rows', 'busy', 'rows/s', 'failures', 'restarts', 'recycles'];
    const wRows = s.workers.map((w) => [
      w.id,
      w.stage ?? '',
      n(w.batches),
      n(w.rows),
      formatDuration(w.busyMs),
      formatCount(w.rowsPerSec),
      n(w.failures),
      n(w.restarts),
      n(w.recycles),
    ]);
    lines.push(
      ...table(wHeader, wRows, [false, false, true, true, true, true, true, true, true]).map((line) => `  ${line}`),
    );
  }

  // memory
  const m = s.memory;
  if (m) {
    lines.push(
      `  memory: peak RSS ${formatBytes(m.peakRss)}, mean ${formatBytes(m.meanRss)}, min ${formatBytes(m.minRss)} of limit ${formatBytes(m.limit)} (peak pressure ${Math.round(m.peakFraction * 100)}%)${s.durationMs >= GROWTH_MIN_MS ? `; growth ${formatBytes(m.growthBytesPerMin)}/min` : ''}`,
    );
    lines.push(
      `  governor: paused ${formatDuration(m.pausedMs)} over ${m.pressureEvents} pressure event${m.pressureEvents === 1 ? '' : 's'}, ${m.spillsRequested} spill request${m.spillsRequested === 1 ? '' : 's'}, ${m.criticalEvents} critical, ${m.leakWarnings} leak warning${m.leakWarnings === 1 ? '' : 's'}, ${m.gcRuns} GC run${m.gcRuns === 1 ? '' : 's'}`,
    );
  } else lines.push('  memory: ungoverned');

  // spills
  const spills = spillLine(s);
  if (spills !== undefined) lines.push(spills);

  // errors by policy: rowsSkipped counts every dropped row, rowsDeadLettered those also written out
  const dropped = s.stages.filter((stage) => stage.rowsSkipped > 0 || stage.rowsDeadLettered > 0);
  if (dropped.length === 0) lines.push('  errors: none');
  else {
    const skippedOnly = s.errors.skipped - s.errors.deadLettered;
    const per = dropped.map((stage) => `${stage.name} ${n(stage.rowsSkipped)}`).join(', ');
    lines.push(`  errors: ${n(Math.max(0, skippedOnly))} skipped, ${n(s.errors.deadLettered)} dead-lettered (${per})`);
  }
  return lines.join('\n');
}

/**
 * The report's spills line: what the governor saw moved out of memory, what spill sinks hold on
 * disk, and what operators (sort, groupBy, distinct, join) wrote to their scratch files;
 * undefined when nothing spilled.
 */
function spillLine(s: PipelineStats): string | undefined {
  const m = s.memory;
  const spillStages = s.stages.filter((stage) => typeof stage.details.bytesOnDisk === 'number');
  const operatorStages = s.stages.filter(
    (stage) => typeof stage.details.bytesOnDisk !== 'number' && (stage.details.bytesSpilled as number) > 0,
  );
  if (spillStages.length === 0 && operatorStages.length === 0 && !(m && m.spills > 0)) return undefined;
  const written = operatorStages.reduce((total, stage) => total + (stage.details.bytesSpilled as number), 0);
  const onDisk = spillStages.reduce((total, stage) => total + (stage.details.bytesOnDisk as number), 0);
  const batches = spillStages.reduce(
    (total, stage) => total + (typeof stage.details.batchesSpilled === 'number' ? stage.details.batchesSpilled : 0),
    0,
  );
  const moved = m
    ? `${m.spills} spill${m.spills === 1 ? '' : 's'} moved ${formatBytes(m.spilledBytes)} out of memory; `
    : '';
  const sink =
    spillStages.length > 0 ? `${formatBytes(onDisk)} on disk in ${n(batches)} batch${batches === 1 ? '' : 'es'}` : '';
  const operators =
    operatorStages.length > 0
      ? `${formatBytes(written)} written by ${operatorStages.map((stage) => stage.name).join(', ')} (runs and partitions)`
      : '';
  return `  spills: ${moved}${[sink, operators].filter(Boolean).join('; ') || '0 B on disk'}`;
}

/** Aligned columns; `right[i]` right-aligns column i. */
function table(header: string[], rows: string[][], right: boolean[]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string =>
    cells
      .map((cell, i) => (right[i] ? cell.padStart(widths[i] ?? 0) : cell.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)];
}
