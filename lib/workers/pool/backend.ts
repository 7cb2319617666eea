/**
 * The tiny interface a parallel backend implements: the local {@link WorkerPool} now, a BullMQ
 * queue later. `mapBatchesInPool` and the `parallel` stage need only this.
 */
import { ValidationError } from '../../core/errors.ts';

/**
 * A batch held as Arrow: it travels as IPC stream bytes (encoded once per attempt, so a retry
 * needs nothing kept but the RecordBatch) and becomes rows only inside the worker. `rows()` is for
 * the dead-letter file.
 */
export interface ArrowInput {
  readonly numRows: number;
  /** The batch as Arrow IPC stream bytes; the caller may transfer them. */
  encode(): Uint8Array;
  /** The batch as rows. */
  rows(): unknown[];
}

/** What one task carries: rows, or an Arrow batch. */
export type BatchInput = unknown[] | ArrowInput;

/** True for an {@link ArrowInput}. */
export function isArrowInput(value: unknown): value is ArrowInput {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    typeof (value as ArrowInput).encode === 'function' &&
    typeof (value as ArrowInput).rows === 'function' &&
    typeof (value as ArrowInput).numRows === 'number'
  );
}

/** Rows in an input: its length, or the Arrow batch's row count. */
export function inputRows(input: BatchInput): number {
  return Array.isArray(input) ? input.length : input.numRows;
}

/** Runs one batch somewhere and resolves with its output rows; `I` is what it accepts. */
export interface BatchRunner<I extends BatchInput = unknown[]> {
  /** One task is one batch; rejects with a WorkerError after the backend's retries. */
  run(taskId: number, input: I): Promise<unknown[]>;
}

/** A backend with a lifecycle and stats. */
export interface ParallelBackend extends BatchRunner<BatchInput> {
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
    throw new ValidationError(
      `Expected \`${path}\` to implement ${methods.join(', ')}; missing ${missing.join(', ') || 'everything'}`,
    );
  }
}
