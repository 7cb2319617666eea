/**
 * The tiny interface a parallel backend implements: the local {@link WorkerPool} now, a BullMQ
 * queue later. `mapBatchesInPool` and the `parallel` stage need only this.
 */
import { ValidationError } from '../errors.ts';

/** Runs one batch somewhere and resolves with its output rows. */
export interface BatchRunner {
  /** One task is one batch; rejects with a WorkerError after the backend's retries. */
  run(taskId: number, rows: unknown[]): Promise<unknown[]>;
}

/** A backend with a lifecycle and stats. */
export interface ParallelBackend extends BatchRunner {
  /** Connects or starts workers; rejects fast when that is impossible. */
  start(): Promise<void>;
  /** Plain, JSON-serialisable counters (`workers` per worker, `totals`). */
  stats(): { workers: object[]; totals: object };
  /** Local child process ids whose memory a governor should count (none for remote workers). */
  pids(): number[];
  /** Drains (at most `timeoutMs`) then releases everything. */
  close(timeoutMs?: number): Promise<void>;
  /** Releases everything now; pending batches reject. Idempotent. */
  destroy(): Promise<void>;
}

/** Throws unless `value` implements {@link ParallelBackend} (checked at registration). */
export function assertParallelBackend(value: unknown, path = 'backend'): asserts value is ParallelBackend {
  const methods = ['start', 'run', 'stats', 'pids', 'close', 'destroy'] as const;
  const missing = methods.filter((m) => typeof (value as Record<string, unknown> | null)?.[m] !== 'function');
  if (value === null || typeof value !== 'object' || missing.length > 0) {
    throw new ValidationError(`Expected \`${path}\` to implement ${methods.join(', ')}; missing ${missing.join(', ') || 'everything'}`);
  }
}
