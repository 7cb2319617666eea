/**
 * The dashboard's live figures as text, from one progress event: the same event the terminal
 * line draws, formatted by the same functions (lib/core/format.ts), so a figure reads the same
 * on the page as in the terminal and the report. Pure, so tests can compare the three.
 */
import type { ProgressEvent } from '../progress-event.ts';
import type { MemorySample } from '../../memory/types.ts';
import type { LiveFigure } from './page.ts';
import { compressionRatio } from './report-html.ts';
import { formatBytes, formatCount, formatDuration, formatPercent, formatRate } from '../../core/format.ts';

/** What the page receives as `figures`: the run's state, a status line and each figure as text. */
export interface DashboardFigures {
  state: string;
  status: string;
  fraction?: number;
  event: ProgressEvent;
  text: Record<LiveFigure, string>;
}

/** What the dashboard knows beside the event: the governor's last sample, spills, batch sizes, restarts. */
export interface FigureContext {
  sample?: Pick<MemorySample, 'heapUsed' | 'heapLimit' | 'childrenRss'>;
  /** Bytes spilled out of memory (before compression); the event's `spilledBytes` is what is on disk. */
  spilledBytes: number;
  batch: { last: number; min: number; max: number };
  restarts: number;
}

/** `a of b` when the total is known. */
function ofTotal(value: string, total: string | undefined): string {
  return total === undefined ? value : `${value} of ${total}`;
}

/** The page's figures for `event`. */
export function dashboardFigures(event: ProgressEvent, context: FigureContext): DashboardFigures {
  const { sample, batch, restarts } = context;
  const ratio = compressionRatio(context.spilledBytes, event.spilledBytes);
  const level = event.memory.level;
  const paused = level === 'pause' || level === 'critical';
  const text: Record<LiveFigure, string> = {
    rows: ofTotal(formatCount(event.rows), event.rowsTotal === undefined ? undefined : formatCount(event.rowsTotal)),
    percent: event.fraction !== undefined ? formatPercent(event.fraction) : '–',
    bytes:
      event.bytesTotal !== undefined
        ? ofTotal(formatBytes(event.bytes), formatBytes(event.bytesTotal))
        : event.bytes > 0
          ? formatBytes(event.bytes)
          : '–',
    rowsPerSec: formatCount(event.rowsPerSec),
    bytesPerSec: event.bytes > 0 ? formatRate(event.bytesPerSec, 'bytes') : '–',
    eta: event.etaMs !== undefined ? formatDuration(event.etaMs) : '–',
    elapsed: formatDuration(event.elapsedMs),
    level,
    memory: event.memory.fraction !== undefined ? formatPercent(event.memory.fraction) : '–',
    rss: formatBytes(event.memory.rss),
    heap: sample ? ofTotal(formatBytes(sample.heapUsed), formatBytes(sample.heapLimit)) : '–',
    children: sample ? formatBytes(sample.childrenRss) : '–',
    spilled: formatBytes(context.spilledBytes),
    onDisk: formatBytes(event.spilledBytes),
    compression: ratio === undefined ? '–' : `≈${ratio.toFixed(1)}×`,
    batch: batch.last > 0 ? `${formatCount(batch.last)} (${formatCount(batch.min)}–${formatCount(batch.max)})` : '–',
    workers: event.workers
      ? `${event.workers.busy}/${event.workers.total} busy${restarts > 0 ? `, ${restarts} restarted` : ''}`
      : '–',
  };
  const state = event.state === 'running' ? (paused ? 'paused' : 'running') : event.state;
  const percent = event.fraction !== undefined ? `, ${formatPercent(event.fraction)}` : '';
  const eta = event.etaMs !== undefined ? `, ETA ${formatDuration(event.etaMs)}` : '';
  const status =
    event.state === 'running' ? `${paused ? `paused (memory ${level})` : 'running'}${percent}${eta}` : event.state;
  return { state, status, ...(event.fraction !== undefined ? { fraction: event.fraction } : {}), event, text };
}
