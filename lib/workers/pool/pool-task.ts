/**
 * One batch as the pool handles it (a task, its attempts) and a worker slot; what crosses to the
 * worker for an attempt; and the message of a batch given up, naming the limit it ran into.
 */
import { formatBytes } from '../../core/format.ts';
import type { WorkerFailure, PoolWorker } from './pool-worker.ts';
import { encodedRows, standalone } from './protocol.ts';
import type { BatchInput } from './backend.ts';
import type { ResolvedPoolOptions } from './options.ts';
import type { WorkerStats } from './worker-stats.ts';

/** A batch in the pool: queued, running or retried. */
export interface Task {
  taskId: number;
  input: BatchInput;
  attempts: number;
  resolve: (rows: unknown[]) => void;
  reject: (error: unknown) => void;
}

/** A place for one worker; its worker is replaced on failure or recycling. */
export interface Slot {
  index: number;
  generation: number;
  /** Workers of this slot that died before they were ready, in a row (a replacement killed while it starts). */
  failedStarts: number;
  worker: PoolWorker | undefined;
  ready: boolean;
  task: Task | undefined;
  stats: WorkerStats;
}

/** A slot with no worker yet. */
export function newSlot(index: number): Slot {
  return {
    index,
    generation: 0,
    failedStarts: 0,
    worker: undefined,
    ready: false,
    task: undefined,
    stats: {
      id: `w${index}`,
      batches: 0,
      rows: 0,
      failures: 0,
      restarts: 0,
      recycles: 0,
      busyMs: 0,
      rowsPerSec: 0,
      exits: [],
    },
  };
}

/** What is posted to the worker for one attempt, and the buffers moved with it. */
export interface TaskPayload {
  payload: { records: Uint8Array } | { rows: unknown[] } | { arrow: Uint8Array };
  transfer: ArrayBuffer[];
}

/**
 * The payload of one attempt. Rows of one shape, or holding a PreciseDate, are encoded (see
 * RunMessage) afresh for every attempt, as Arrow input is, so their bytes always move to a thread.
 * Other rows are posted as they are (the message's clone is cheaper for a few rows, and reports
 * what cannot be cloned), and copied: their buffers are the caller's (a Buffer the user holds, a
 * page shared by other rows), and moving one to a thread detached it under them.
 */
export function taskPayload(input: BatchInput, thread: boolean): TaskPayload {
  if (Array.isArray(input)) {
    const encoded = encodedRows(input);
    if (encoded === undefined) return { payload: { rows: input }, transfer: [] };
    return { payload: { records: encoded }, transfer: thread ? [encoded.buffer as ArrayBuffer] : [] };
  }
  const arrow = standalone(input.encode());
  return { payload: { arrow }, transfer: thread ? [arrow.buffer as ArrayBuffer] : [] };
}

/** The message of a batch that failed for good; a memory failure names the limit and what was seen. */
export function givenUpMessage(
  task: Task,
  failure: WorkerFailure,
  options: Pick<ResolvedPoolOptions, 'workerMemoryLimit' | 'isolation'>,
  heapUsed?: number,
): string {
  let message = `Batch ${task.taskId} failed after ${task.attempts} attempt(s) (${failure.reason}): ${failure.message}`;
  if (failure.reason === 'memory' && options.workerMemoryLimit !== undefined) {
    const what = options.isolation === 'thread' ? 'V8 heap' : 'RSS';
    const seen = heapUsed === undefined || heapUsed === 0 ? '' : `; last reported heap ${formatBytes(heapUsed)}`;
    message += ` (options.workerMemoryLimit ${formatBytes(options.workerMemoryLimit)} of ${what}${seen})`;
  }
  return message;
}
