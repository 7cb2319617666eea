/** Shared pieces of the benchmarks: the cached bench data, timing, medians, the row format. */
import { existsSync, mkdirSync, statSync, renameSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RecordBatch } from 'apache-arrow';
import { Batch, BatchSource } from 'spillway/extend';
import { writeTradesCsv } from '../samples/trades-data.ts';

/** One line of the results table. */
export interface BenchRow {
  /** Group, e.g. `csv`. */
  group?: string;
  /** What was measured. */
  case: string;
  rowsPerSec?: number;
  mbPerSec?: number;
  /** Ratio against the group's baseline (or as the note says). */
  ratio?: number;
  /** Peak RSS, bytes, where measured. */
  peakRss?: number;
  note?: string;
}

/** Where generated bench data is cached between runs. */
export const DATA_DIR = join(dirname(fileURLToPath(import.meta.url)), '.data');

/** Rows of the bench CSV (BENCH_ROWS overrides; default 3,000,000: about 230 MB). */
export const BENCH_ROWS = Number(process.env.BENCH_ROWS ?? 3_000_000);

/** Runs per measurement; the median is reported (BENCH_RUNS overrides; default 3). */
export const BENCH_RUNS = Number(process.env.BENCH_RUNS ?? 3);

/** Distinct symbols in the bench data. */
export const BENCH_SYMBOLS = 500;

/** The bench CSV of `rows` rows (default BENCH_ROWS) with {@link BENCH_SYMBOLS} symbols, generated once and cached. */
export async function benchCsv(rows = BENCH_ROWS): Promise<{ path: string; rows: number; bytes: number }> {
  mkdirSync(DATA_DIR, { recursive: true });
  // 500 symbols: the cardinality the issues measure DuckDB at (12 would flatter hashing and interning)
  const path = join(DATA_DIR, `trades-${rows}-s${BENCH_SYMBOLS}.csv`);
  if (!existsSync(path)) {
    process.stderr.write(`generating ${rows} rows of bench data into ${path} ...\n`);
    await writeTradesCsv(`${path}.partial`, { rows, gzip: false, symbols: BENCH_SYMBOLS });
    renameSync(`${path}.partial`, path);
  }
  return { path, rows, bytes: statSync(path).size };
}

/** Times `fn` and returns milliseconds with its result. */
export async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; result: T }> {
  const started = performance.now();
  const result = await fn();
  return { ms: performance.now() - started, result };
}

/** The median of `values`. */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/**
 * Measures several cases side by side: runs them interleaved `runs` times, each run starting at
 * another case (so drift and order effects hit all alike), and returns each case's median ms.
 */
export async function interleaved(
  cases: Record<string, () => Promise<unknown>>,
  runs = BENCH_RUNS,
): Promise<Record<string, number>> {
  const times: Record<string, number[]> = {};
  const entries = Object.entries(cases);
  for (let run = 0; run < runs; run++) {
    // each run starts at another case, so no case always follows the same one (heap left over,
    // caches warmed by the previous case)
    const order = [...entries.slice(run % entries.length), ...entries.slice(0, run % entries.length)];
    for (const [name, fn] of order) {
      (globalThis as { gc?: () => void }).gc?.();
      const { ms } = await timed(fn);
      (times[name] ??= []).push(ms);
    }
  }
  return Object.fromEntries(Object.entries(times).map(([name, ms]) => [name, median(ms)]));
}

/** A source that replays in-memory Arrow batches, so a benchmark measures the stages after it. */
export function arrowBatchSource(batches: readonly RecordBatch[], name = 'memory'): BatchSource {
  return new BatchSource({
    name,
    async *open() {
      let rowStart = 0;
      for (const [index, recordBatch] of batches.entries()) {
        yield Batch.fromArrow(recordBatch, { source: name, index, rowStart });
        rowStart += recordBatch.numRows;
      }
    },
  });
}
