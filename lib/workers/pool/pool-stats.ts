/** The pool's counters: per worker (worker-stats.ts) summed into totals, shared with the BullMQ backend. */
import type { WorkerStats } from './worker-stats.ts';

/** The pool's totals. */
export interface PoolTotals {
  workers: number;
  batches: number;
  rows: number;
  failures: number;
  restarts: number;
  recycles: number;
  /** Batches queued again after a failure. */
  retries: number;
  /** Batches given up to the dead-letter file, and their rows. */
  deadLetteredBatches: number;
  deadLetteredRows: number;
  busyMs: number;
  rowsPerSec: number;
  /** Batches waiting for a worker, and running now. */
  queued: number;
  running: number;
}

/** What {@link WorkerPool.stats} returns. */
export interface PoolStats {
  workers: WorkerStats[];
  totals: PoolTotals;
}

/** Rows a second of busy time. */
export function rowsPerSecond(rows: number, busyMs: number): number {
  return busyMs > 0 ? Math.round((rows / busyMs) * 1000) : 0;
}

/** Totals over per-worker counters, with what only the backend knows (retries, queue). */
export function sumWorkers(
  workers: readonly WorkerStats[],
  known: Pick<PoolTotals, 'retries' | 'deadLetteredBatches' | 'deadLetteredRows' | 'queued' | 'running'>,
): PoolTotals {
  const sum = (key: 'batches' | 'rows' | 'failures' | 'restarts' | 'recycles' | 'busyMs'): number =>
    workers.reduce((n, w) => n + w[key], 0);
  const busyMs = sum('busyMs');
  return {
    workers: workers.length,
    batches: sum('batches'),
    rows: sum('rows'),
    failures: sum('failures'),
    restarts: sum('restarts'),
    recycles: sum('recycles'),
    ...known,
    busyMs,
    rowsPerSec: rowsPerSecond(sum('rows'), busyMs),
  };
}
