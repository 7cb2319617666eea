/**
 * One reading of a running pipeline's counters: what the run's single sampler hands every
 * observer (progress line, timeline, dashboard), so the stages are polled once per tick.
 */
import type { Readable, Writable } from 'node:stream';
import { BatchSource } from './source.ts';
import { STAGE, isStage, type StageKind } from './stage.ts';
import type { GovernorGate, SourceProgress } from './stage.ts';
import type { MemoryLevel, MemorySample } from '../memory/types.ts';

/** One stage's counters in a reading. */
export interface StageReading {
  name: string;
  kind: StageKind;
  rowsIn: number;
  rowsOut: number;
  batchesIn: number;
  batchesOut: number;
  /** Milliseconds of the stage's own work so far. */
  timeMs: number;
}

/** The counters of a run at one moment. */
export interface RunReading {
  /** `performance.now()` when read. */
  at: number;
  /** Rows the first source produced. */
  rows: number;
  /** Rows the first source will produce, when it knows. */
  rowsTotal?: number;
  /** Input rows the first source passed over, when its filter makes that differ from `rows`. */
  rowsScanned?: number;
  /** Bytes the first source read. */
  bytes: number;
  /** Bytes the first source will read, when it knows. */
  bytesTotal?: number;
  /** Batches the first source produced. */
  batches: number;
  /** Rows in the source's latest batch, when it reports it (adaptive batch sizes). */
  batchSizeLast?: number;
  /** Memory now: the governor's level and last sample, or the process RSS when ungoverned. */
  memory: { level: MemoryLevel; rss: number; fraction?: number };
  /** Bytes spill sinks have written to disk. */
  spilledBytes: number;
  /** Workers of parallel stages: running and total. */
  workers?: { busy: number; total: number };
  stages: StageReading[];
}

/** What a parallel stage exposes for readings. */
interface PoolView {
  poolStats(): { totals: { workers: number; running: number } };
}

function isPool(value: unknown): value is PoolView {
  return typeof (value as Partial<PoolView>).poolStats === 'function';
}

/** The governor's view a reading needs. */
type GovernorView = Pick<GovernorGate, 'level'> & { readonly lastSample?: MemorySample | undefined };

/** Reads the counters of `streams` (and the governor's last sample) now. */
export function readRun(streams: readonly (Readable | Writable)[], governor: GovernorView | undefined): RunReading {
  const stages: StageReading[] = [];
  let spilledBytes = 0;
  let workers: { busy: number; total: number } | undefined;
  let source: SourceProgress | undefined;
  let batchSizeLast: number | undefined;
  for (const stream of streams) {
    if (!isStage(stream)) continue;
    const s = stream[STAGE].stats;
    stages.push({
      name: s.name,
      kind: s.kind,
      rowsIn: s.rowsIn,
      rowsOut: s.rowsOut,
      batchesIn: s.batchesIn,
      batchesOut: s.batchesOut,
      timeMs: Math.round(s.timeMs),
    });
    // a spill sink's files, or what an operator wrote to its scratch (sorted runs, partitions)
    const onDisk = s.details.bytesOnDisk ?? s.details.bytesSpilled;
    if (typeof onDisk === 'number') spilledBytes += onDisk;
    if (source === undefined && stream instanceof BatchSource) {
      source = stream.progress();
      const last = s.details.batchSizeLast;
      if (typeof last === 'number') batchSizeLast = last;
    }
    if (isPool(stream)) {
      const totals = stream.poolStats().totals;
      workers = { busy: (workers?.busy ?? 0) + totals.running, total: (workers?.total ?? 0) + totals.workers };
    }
  }
  const sample = governor?.lastSample;
  const memory =
    sample && governor
      ? { level: governor.level, rss: sample.rss, fraction: Math.round(sample.fraction * 1e4) / 1e4 }
      : { level: 'ok' as MemoryLevel, rss: process.memoryUsage.rss() };
  return {
    at: performance.now(),
    rows: stages[0]?.rowsOut ?? 0,
    ...(source?.totalRows !== undefined ? { rowsTotal: source.totalRows } : {}),
    ...(source?.rowsScanned !== undefined ? { rowsScanned: source.rowsScanned } : {}),
    bytes: source?.bytes ?? 0,
    ...(source?.totalBytes !== undefined ? { bytesTotal: source.totalBytes } : {}),
    batches: stages[0]?.batchesOut ?? 0,
    ...(batchSizeLast !== undefined ? { batchSizeLast } : {}),
    memory,
    spilledBytes,
    ...(workers ? { workers } : {}),
    stages,
  };
}
