/**
 * The end of a producer run: its jobs not yet taken, every key under its prefix and its lease are
 * removed (within 2 s; TTLs and the next run's sweep cover the rest), and BullMQ's clients are
 * closed, or dropped when Redis is gone.
 */
import { logger } from '../../core/log.ts';
import type { Queue, QueueEvents } from 'bullmq';
import type { Redis } from 'ioredis';
import { redact } from './options.ts';
import { withTimeout } from './redis.ts';
import type { Pending } from './results.ts';

const debug = logger('distributed');

/** The run to remove: its queue, client, key prefix and the batches abandoned. */
export interface RunToRemove {
  readonly queue: Queue | undefined;
  readonly client: Redis;
  /** The run's key prefix. */
  readonly base: string;
  readonly runId: string;
  readonly abandoned: readonly Pending[];
  readonly secrets: readonly (string | undefined)[];
  /** For the debug line when removal is incomplete. */
  readonly payloadTtlMs: number;
  /** The run's lease (see run-lease.ts), released last. */
  readonly lease: { release(): Promise<void> } | undefined;
}

/** Removes the run's jobs and keys within 2 s; an incomplete removal is logged, never thrown. */
export async function removeRun(run: RunToRemove): Promise<void> {
  try {
    await withTimeout(removeKeys(run), 2000, () => new Error('cleanup timed out'));
  } catch (error) {
    debug(
      'producer: cleanup of run %s incomplete (%s); its keys expire in %d ms',
      run.runId,
      redact((error as Error).message, run.secrets),
      run.payloadTtlMs,
    );
  }
}

/** Removes jobs not yet taken (workers skip the rest: their payload is gone) and every key of the run. */
async function removeKeys(run: RunToRemove): Promise<void> {
  const { queue, client } = run;
  if (queue !== undefined) await Promise.all(run.abandoned.map((p) => queue.remove(p.jobId).catch(() => 0)));
  const removed = await deleteRunKeys(client, run.base);
  await run.lease?.release();
  debug('producer: run %s ended; %d key(s) removed', run.runId, removed);
}

/** Deletes every key under a run's prefix `base`; resolves with how many there were. */
export async function deleteRunKeys(client: Redis, base: string): Promise<number> {
  let cursor = '0';
  let removed = 0;
  do {
    const [next, keys] = await client.scan(cursor, 'MATCH', `${base}:*`, 'COUNT', 500);
    cursor = next;
    if (keys.length > 0) removed += await client.del(...keys);
  } while (cursor !== '0');
  return removed;
}

/** Closes a BullMQ queue or event stream within 1 s, else drops its connection. Never throws. */
export async function closeBull(closable: Queue | QueueEvents | undefined): Promise<void> {
  if (closable === undefined) return;
  try {
    await withTimeout(closable.close(), 1000, () => new Error('close timed out'));
  } catch {
    // not awaited: with Redis gone it may wait for a reconnection that never comes
    Promise.resolve(closable.disconnect()).catch(() => {});
  }
}
