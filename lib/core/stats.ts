/**
 * What a run reports: the plain, JSON-serialisable stats of a pipeline and what `pipeline()`
 * resolves to, and how the stats are gathered from the stages' live counters.
 */
import type { Readable, Writable } from 'node:stream';
import { BatchSource } from './source.ts';
import { STAGE, isStage, newStageStats, type SourceProgress, type StageStats } from './stage.ts';
import type { MemorySummary } from '../memory/types.ts';
import type { WorkerStats } from '../workers/pool/worker-stats.ts';
import type { Timeline } from '../observe/timeline-data.ts';

/** Counters of a finished run; a plain, JSON-serialisable object. */
export interface PipelineStats {
  /** Rows the source(s) produced. */
  rowsIn: number;
  /** Rows that reached the sink. */
  rowsOut: number;
  batchesIn: number;
  batchesOut: number;
  /** Bytes the source read from its file (compressed bytes for compressed input). */
  bytesRead: number;
  /** Wall time of the run. */
  durationMs: number;
  /** ISO-8601 start time. */
  startedAt: string;
  /** Per stage, in pipeline order. */
  stages: StageStats[];
  /** Rows dropped by error policies, over all stages: `skipped` counts them all, dead-lettered ones included; `deadLettered` those also written to a dead-letter file. */
  errors: { skipped: number; deadLettered: number };
  /** Memory over this run (peak, mean and min RSS, growth, time paused, pressure events, leak warnings, spills); absent when ungoverned. */
  memory?: MemorySummary;
  /** Per worker of every parallel stage (batches, rows, failures, restarts, busy time, rows/s); absent without one. */
  workers?: WorkerStats[];
  /** Rows, bytes, batch size, spills and memory over time, at most 600 points (thinned as the run grows). */
  timeline?: Timeline;
}

/** What {@link pipeline} resolves to. */
export interface PipelineResult<T> {
  /** What the sink produced: rows for `collect()`, a file summary for `toCsv()`, ... */
  output: T;
  stats: PipelineStats;
}

/** The stats of a run so far, read from its stages' live counters. */
export function collectStats(
  streams: readonly (Readable | Writable)[],
  durationMs: number,
  startedAt: string,
): PipelineStats {
  const stages: StageStats[] = [];
  let bytesRead = 0;
  for (const stream of streams) {
    if (!isStage(stream)) continue;
    const stats = stream[STAGE].stats;
    stages.push({
      ...stats,
      timeMs: Math.round(stats.timeMs * 100) / 100,
      details: { ...stats.details },
      ...(stats.workers ? { workers: stats.workers.map((w) => ({ ...w })) } : {}),
    });
    if (stream instanceof BatchSource) bytesRead += (stream.progress() as SourceProgress).bytes;
  }
  const source = stages[0] ?? newStageStats('source', 'source');
  const sink = stages[stages.length - 1] ?? newStageStats('sink', 'sink');
  const workers = stages.flatMap((s) => s.workers ?? []);
  return {
    rowsIn: source.rowsOut,
    rowsOut: sink.rowsIn,
    batchesIn: source.batchesOut,
    batchesOut: sink.batchesIn,
    bytesRead,
    durationMs: Math.round(durationMs * 100) / 100,
    startedAt,
    stages,
    errors: {
      skipped: stages.reduce((n, s) => n + s.rowsSkipped, 0),
      deadLettered: stages.reduce((n, s) => n + s.rowsDeadLettered, 0),
    },
    ...(workers.length > 0 ? { workers } : {}),
  };
}
