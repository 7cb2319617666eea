/**
 * How the BullMQ producer settles a batch: a completed job's result is read back from Redis and
 * counted to its worker; a job that failed after its retries becomes a WorkerError, or goes to the
 * dead-letter file row by row. Keys are removed once read.
 */
import { logger } from '../../core/log.ts';
import type { Queue } from 'bullmq';
import type { DeadLetterFile } from '../../io/dead-letter.ts';
import { QueueError, WorkerError } from '../../core/errors.ts';
import { inputRows } from '../pool/backend.ts';
import type { BatchInput } from '../pool/backend.ts';
import { parseFailure } from './job.ts';
import type { BatchJobResult } from './job.ts';
import { redact } from './options.ts';
import { payloadModule } from './payload-lazy.ts';
import type { RedisHandle } from './redis.ts';
import type { RemoteCounters } from './remote-stats.ts';

const debug = logger('distributed');

/** A batch queued and not yet settled. */
export interface Pending {
  seq: number;
  taskId: number;
  jobId: string;
  input: BatchInput;
  inKey: string;
  settling: boolean;
  resolve: (rows: unknown[]) => void;
  reject: (error: unknown) => void;
}

/** What settling a batch needs of the producer's run. */
export interface RunContext {
  readonly redis: RedisHandle | undefined;
  readonly queue: Queue | undefined;
  /** The run's key prefix. */
  readonly base: string;
  readonly secrets: readonly (string | undefined)[];
  readonly retries: number;
  readonly counters: RemoteCounters;
  readonly deadLetter: DeadLetterFile | undefined;
}

/** The error of a batch still pending when the backend is closed. */
export function abandonedError(p: Pending): WorkerError {
  return new WorkerError(
    `Batch ${p.taskId} was abandoned: the queue backend was closed`,
    { batch: p.taskId },
    'closed',
    0,
  );
}

/** The output rows of a completed job, read from Redis (its keys then removed), counted to its worker. */
export async function collectResult(run: RunContext, p: Pending, result: BatchJobResult): Promise<unknown[]> {
  const client = run.redis!.client;
  if (result === null || typeof result !== 'object' || typeof result.worker !== 'string')
    throw new QueueError(
      `Batch ${p.taskId} completed without a spillway result (another application on this queue?)`,
      { batch: p.taskId },
      'payload',
    );
  if (result.out === undefined)
    throw new QueueError(
      `Batch ${p.taskId} was skipped by worker ${result.worker}: its payload had expired (raise payloadTtlMs) or the run had lost its lease`,
      { batch: p.taskId },
      'payload',
    );
  const bytes = await client.getBuffer(result.out);
  if (bytes === null)
    throw new QueueError(
      `The result of batch ${p.taskId} is missing from Redis (expired or deleted)`,
      { batch: p.taskId },
      'payload',
    );
  run.counters.bytesReceived += bytes.byteLength;
  const { decodePayload, payloadRows } = await payloadModule.load();
  const rows = payloadRows(decodePayload(bytes, `the result of batch ${p.taskId}`));
  void client.del(result.out, p.inKey).catch(() => {});
  const stats = run.counters.worker(result.worker, result.host, result.pid);
  stats.batches++;
  stats.rows += inputRows(p.input);
  stats.busyMs += result.ms;
  if (result.attemptsBefore > 0) await run.counters.readFailures(run.redis?.client, run.base);
  return rows;
}

/**
 * A job that failed after its retries: rejects with a WorkerError, or (with a dead-letter file)
 * writes its rows there and resolves with no rows.
 */
export async function giveUpBatch(run: RunContext, p: Pending, failedReason: string | undefined): Promise<unknown[]> {
  const { reason, message } = parseFailure(failedReason);
  let attempts = run.retries + 1;
  try {
    const job = await run.queue!.getJob(p.jobId);
    if (job !== undefined) {
      attempts = Math.max(1, job.attemptsMade);
      await job.remove().catch(() => {});
    }
    await run.counters.readFailures(run.redis?.client, run.base);
    void run.redis!.client.del(p.inKey).catch(() => {});
  } catch (error) {
    debug('producer: could not read failed job %s: %s', p.jobId, redact((error as Error).message, run.secrets));
  }
  run.counters.failedBatches++;
  const cause = new Error(message);
  if (run.deadLetter === undefined) {
    throw new WorkerError(
      `Batch ${p.taskId} failed after ${attempts} attempt(s) (${reason}): ${message}`,
      { batch: p.taskId },
      reason,
      attempts,
      { cause },
    );
  }
  const rows = Array.isArray(p.input) ? p.input : p.input.rows();
  for (let row = 0; row < rows.length; row++) {
    await run.deadLetter.write({
      stage: 'parallel',
      reason: message,
      code: reason,
      batch: p.taskId,
      attempts,
      row,
      data: rows[row],
    });
  }
  run.counters.deadBatches++;
  run.counters.deadRows += rows.length;
  return [];
}
