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
}

/** The settings in force (see {@link ParallelCsvSettings}). */
export const PARALLEL_CSV: ParallelCsvSettings = {
  minBytes: 16 * 1024 * 1024,
  chunkBytes: 4 * 1024 * 1024,
  // the main thread stays free for the stages after the source (and Parquet's encoder thread);
  // SPILLWAY_CSV_THREADS sets the count (0: never parallel), e.g. to compare in a benchmark
  threads: threadsFromEnv() ?? Math.min(2, Math.max(0, availableParallelism() - 1)),
};

function threadsFromEnv(): number | undefined {
  const value = process.env.SPILLWAY_CSV_THREADS;
  return value !== undefined && /^\d+$/.test(value) ? Number(value) : undefined;
}
