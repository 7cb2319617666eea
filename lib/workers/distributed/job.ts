/**
 * What a BullMQ job carries between the producer (the `parallel` stage) and `spillway worker`:
 * small JSON naming the Redis keys that hold the batch and its result (never the rows themselves),
 * and the failure format workers use so the producer can tell a timeout from a crash.
 */
import type { WorkerFailureReason } from '../../core/errors.ts';

/** Job data: a reference to the batch's payload key and how to run it. */
export interface BatchJobData {
  v: 1;
  /** Key prefix of this run's payloads: `<prefix>:<queue>:spillway:<runId>`. */
  base: string;
  /** Sequence number in the run (unique; the job id is `<runId>-<seq>`). */
  seq: number;
  /** The batch index, for messages. */
  task: number;
  /** Key of the batch payload. */
  input: string;
  /** Key of the run's lease: gone once its producer died (a worker then skips the job). Absent from producers before it. */
  lease?: string;
  /** Input rows. */
  rows: number;
  kind: 'row' | 'batch';
  export: string;
  /** Per-batch time limit, enforced by the worker. */
  timeoutMs: number | null;
  /** TTL of the result key. */
  ttlMs: number;
  /** The producer's module file name, to warn about a worker running another module. */
  module: string;
}

/** A completed job's return value. */
export interface BatchJobResult {
  /** Key of the result payload; absent when the run was gone before the batch ran. */
  out?: string;
  skipped?: boolean;
  worker: string;
  host: string;
  pid: number;
  /** Milliseconds the batch took in the worker (decode, run, encode). */
  ms: number;
  /** Failed attempts before this one (BullMQ's `attemptsMade`). */
  attemptsBefore: number;
}

/** Key of a run's payload for batch `seq` (`in`) or its result (`out`, per worker). */
export function payloadKey(base: string, side: 'in' | 'out', seq: number, worker?: string): string {
  return side === 'in' ? `${base}:in:${seq}` : `${base}:out:${seq}:${worker ?? ''}`;
}

/** Hash of failed attempts per worker id, and of worker id to `host pid`. */
export function failuresKey(base: string): string {
  return `${base}:failures`;
}

/** Hash of worker id to `{ host, pid }` JSON for workers that failed batches. */
export function workersKey(base: string): string {
  return `${base}:workers`;
}

/** Reasons a worker reports in a job's failure message as a `reason: ` prefix. */
const REASONS: readonly WorkerFailureReason[] = ['error', 'crash', 'memory', 'timeout', 'start', 'closed'];

/** A failure message for BullMQ: `timeout: Batch 3 passed 1000 ms`. */
export function failureMessage(reason: WorkerFailureReason, message: string): string {
  return `${reason}: ${message}`;
}

/** Splits a BullMQ failed reason back into its kind and message (stalled jobs count as crashes). */
export function parseFailure(failedReason: string | undefined): { reason: WorkerFailureReason; message: string } {
  const text = failedReason ?? 'unknown failure';
  const colon = text.indexOf(': ');
  const head = colon > 0 ? text.slice(0, colon) : '';
  if ((REASONS as readonly string[]).includes(head))
    return { reason: head as WorkerFailureReason, message: text.slice(colon + 2) };
  // BullMQ's own failures: a job that stalled too often (its workers died), or a lost lock
  return { reason: 'crash', message: text };
}

/** Checks a job's data is ours; throws with a clear message otherwise. */
export function expectJobData(data: unknown): BatchJobData {
  const d = data as Partial<BatchJobData> | null;
  if (
    d === null ||
    typeof d !== 'object' ||
    d.v !== 1 ||
    typeof d.input !== 'string' ||
    typeof d.base !== 'string' ||
    typeof d.seq !== 'number'
  ) {
    throw new Error(
      'this job was not queued by spillway (unknown job data); is another application using the same queue name?',
    );
  }
  return d as BatchJobData;
}
