/**
 * When fromCsv parses on threads, and how much: files from {@link PARALLEL_CSV.minBytes} up, cut
 * into chunks of about {@link PARALLEL_CSV.chunkBytes}, parsed by {@link PARALLEL_CSV.threads}
 * threads. One mutable object, so a test or a benchmark can lower the bar for small files.
 */
import { availableParallelism } from 'node:os';

/** The knobs of parallel CSV parsing; see the module comment. */
export interface ParallelCsvSettings {
  /** Smaller files are parsed on the main thread (a thread costs its start). */
  minBytes: number;
  /** Bytes per chunk handed to a thread. */
  chunkBytes: number;
  /** Parser threads (0: never parallel). */
  threads: number;
  /**
   * Bytes a governed read needs below the governor's pause mark to start its parser threads: a
   * thread is a second V8 isolate with chunks in flight, and the main thread then holds batches
   * from both. Measured on 1M trades rows to Parquet: peak RSS 248 MB threaded against 212 MB on
   * one thread, from ~70 MB at open; at a 256 MB limit (pause mark 205 MB) the threaded run passed
   * the critical mark, so tight limits read on one thread.
   */
  threadRoom: number;
  /**
   * The main thread parses ranges too while the one it needs next is still on a thread (see
   * range-queue.ts). False only in tests, to have the threads parse every range of a small file.
   */
  mainThreadParses: boolean;
}

/** The settings in force (see {@link ParallelCsvSettings}). */
export const PARALLEL_CSV: ParallelCsvSettings = {
  minBytes: 16 * 1024 * 1024,
  chunkBytes: 4 * 1024 * 1024,
  threadRoom: 160e6,
  mainThreadParses: true,
  // SPILLWAY_CSV_THREADS sets the count (0: never parallel), e.g. to compare in a benchmark
  threads: threadsFromEnv() ?? defaultThreads(availableParallelism()),
};

/**
 * Parser threads by default: the cores left after the main thread (which parses itself when there
 * are no threads) and a sink's encoder thread (toParquet), at most 2. On 2 cores that is none:
 * the main thread parses and the second core encodes, so both already work. Measured on 1M
 * trades rows (500 symbols) `fromCsv({ cast: true }) -> toParquet`, one parser thread against
 * none, 2026-12-02: quiet machine 0.44x against 0.51x DuckDB 1 thread; load average 9, three runs
 * each interleaved, 6.0-9.3 s against 4.1-4.5 s wall and 5.1-5.4 s against 3.6-4.5 s of CPU (a
 * thread parses a range and the main thread still rebuilds its batches).
 */
export function defaultThreads(cores: number): number {
  return Math.min(2, Math.max(0, cores - 2));
}

function threadsFromEnv(): number | undefined {
  const value = process.env.SPILLWAY_CSV_THREADS;
  return value !== undefined && /^\d+$/.test(value) ? Number(value) : undefined;
}
