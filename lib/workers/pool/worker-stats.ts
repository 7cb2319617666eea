/** Counters of a pool's workers, as plain types (stage stats carry them). */

/** Why a worker ended. */
export type WorkerExitReason = 'crash' | 'timeout' | 'memory' | 'recycle' | 'error';

/** Counters of one worker slot; a slot keeps its counters across restarts and recycles. */
export interface WorkerStats {
  /** Slot id: `w0`, `w1`, ... */
  id: string;
  /** The stage whose pool this worker belongs to (set by the `parallel` stage). */
  stage?: string;
  /** Current child's process id (process isolation). */
  pid?: number;
  /** Current thread's id (thread isolation). */
  threadId?: number;
  /** Batches completed. */
  batches: number;
  /** Input rows of the batches completed. */
  rows: number;
  /** Batch attempts that failed here (each is retried or given up). */
  failures: number;
  /** Workers replaced after a failure. */
  restarts: number;
  /** Workers replaced after `maxTasksPerWorker` batches. */
  recycles: number;
  /** Milliseconds spent running batches (completed or not). */
  busyMs: number;
  /** `rows` per second of busy time. */
  rowsPerSec: number;
  /** Latest resident set size sampled (process isolation with a memory limit), bytes. */
  rss?: number;
  /** Each worker end, with its reason (the last 100). */
  exits: { reason: WorkerExitReason; at: number }[];
}
