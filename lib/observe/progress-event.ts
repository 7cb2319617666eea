/**
 * What one progress report holds, and where progress lines go: the types the tracker
 * (progress.ts) produces and the line renderer (progress-line.ts) draws.
 */
import type { StageReading } from '../core/reading.ts';
import type { MemoryLevel } from '../memory/governor.ts';

/** A stage's counters in a {@link ProgressEvent}: the run's reading of that stage. */
export type ProgressStage = StageReading;

/** One progress report; a plain, JSON-serialisable object. */
export interface ProgressEvent {
  /** `running` for live samples; the final event is `done` or `failed`. */
  state: 'running' | 'done' | 'failed';
  /** Rows the source produced so far (the final event's equals `stats.rowsIn`). */
  rows: number;
  /** Rows the source will produce, when it knows (Parquet/Arrow footers, arrays, spills). */
  rowsTotal?: number;
  /**
   * Rows of the input the source has passed over, when its own filter (a dataset's `where`) makes
   * that differ from `rows`: read and filtered out, or in files and row groups skipped. With
   * `rowsTotal` (the input's rows) it gives `fraction`.
   */
  rowsScanned?: number;
  /** Bytes the source read from its file (compressed bytes for gzip input). */
  bytes: number;
  /** The file's size, when the source reads a file. */
  bytesTotal?: number;
  /** Share done, 0..1, when a total is known (rows when the row total is known, else bytes). */
  fraction?: number;
  /** Rows per second, smoothed over the last few seconds (the final event: the whole run's mean). */
  rowsPerSec: number;
  /** Source bytes per second, smoothed likewise. */
  bytesPerSec: number;
  /** Time left at the current rate, when a total is known. */
  etaMs?: number;
  /** Time since the pipeline started. */
  elapsedMs: number;
  /** Memory now: the governor's level, this process's RSS, and the pressure fraction (when governed). */
  memory: { level: MemoryLevel; rss: number; fraction?: number };
  /** Bytes spill sinks have written to disk in this run. */
  spilledBytes: number;
  /** Workers of the parallel stages: running a batch now, and in all. */
  workers?: { busy: number; total: number };
  /** Per stage, in pipeline order. */
  stages: ProgressStage[];
}

/** A writable that progress lines go to (`process.stderr` by default). */
export interface ProgressStream {
  write(chunk: string): unknown;
  /** True on a terminal: one live line is redrawn; otherwise plain lines are written. */
  isTTY?: boolean;
  /** Terminal width; the live line is cut to fit. */
  columns?: number;
}
