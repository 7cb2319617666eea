/**
 * How a distributed run tells the living from the dead, as Dask, Ray and Celery do with client
 * heartbeats: each producer run holds a lease, a liveness key (`<base>:alive`) with a short TTL that
 * it refreshes while it runs and deletes when it ends, and is listed in its queue's set of runs
 * (`<prefix>:<queue>:spillway-runs`). A run whose lease has lapsed lost its producer (SIGKILL, a
 * crashed machine): workers skip its jobs instead of computing them for nobody, and the next
 * producer to start on the queue removes its jobs and keys.
 */
import { hostname } from 'node:os';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { QueueError } from '../../core/errors.ts';
import { logger } from '../../core/log.ts';
import type { ResolvedQueueOptions } from './options.ts';
import { deleteRunKeys } from './teardown.ts';

const debug = logger('distributed');

/** States a dead run's jobs may sit in; an active one is locked by a worker, which skips it. */
const IDLE_STATES = ['wait', 'delayed', 'prioritized', 'waiting-children', 'failed'] as const;

/** Key prefix of a run's payloads and lease: `<prefix>:<queue>:spillway:<runId>`. */
export function runBase(q: Pick<ResolvedQueueOptions, 'prefix' | 'queue'>, runId: string): string {
  return `${q.prefix}:${q.queue}:spillway:${runId}`;
}

/** The set of a queue's runs, live or dead-and-not-yet-swept (gone when empty). */
function runsKey(q: Pick<ResolvedQueueOptions, 'prefix' | 'queue'>): string {
  return `${q.prefix}:${q.queue}:spillway-runs`;
}

/** A run's liveness key: it exists while its producer lives. */
export function leaseKey(base: string): string {
  return `${base}:alive`;
}

/** A producer run's lease, refreshed every third of its TTL until {@link RunLease.stop} or {@link RunLease.release}. */
export class RunLease {
  readonly #client: Redis;
  readonly #q: ResolvedQueueOptions;
  readonly #runId: string;
  readonly #key: string;
  readonly #onLapsed: (error: QueueError) => void;
  readonly #timer: NodeJS.Timeout;
  #refreshing = false;
  #stopped = false;
  /** Set when a refresh found the lease gone while the run went on. */
  lapsed = false;

  private constructor(client: Redis, q: ResolvedQueueOptions, runId: string, onLapsed: (error: QueueError) => void) {
    this.#client = client;
    this.#q = q;
    this.#runId = runId;
    this.#key = leaseKey(runBase(q, runId));
    this.#onLapsed = onLapsed;
    this.#timer = setInterval(() => void this.#refresh(), Math.floor(q.leaseTtlMs / 3));
    // the lease never keeps a process alive: a run that ends stops it, one that dies lets it lapse
    this.#timer.unref();
  }

  /**
   * Removes the queue's dead runs (never throws: a failed sweep is logged and retried by the next
   * run), then takes the lease of `runId`. `onLapsed` is called once if the lease is found gone
   * while the run goes on (its process stalled for longer than the TTL): workers skip its jobs.
   */
  static async acquire(
    client: Redis,
    queue: Queue,
    q: ResolvedQueueOptions,
    runId: string,
    onLapsed: (error: QueueError) => void,
  ): Promise<RunLease> {
    await sweepDeadRuns(client, queue, q).catch((error: unknown) =>
      debug('producer: sweeping dead runs of queue %s failed: %s', q.queue, (error as Error).message),
    );
    // one transaction: no sweeper ever sees the run listed without its lease
    await client
      .multi()
      .sadd(runsKey(q), runId)
      .set(leaseKey(runBase(q, runId)), `${hostname()} ${process.pid}`, 'PX', q.leaseTtlMs)
      .exec();
    return new RunLease(client, q, runId, onLapsed);
  }

  async #refresh(): Promise<void> {
    // with Redis unreachable a refresh waits for the reconnection: never pile them up
    if (this.#refreshing || this.#stopped) return;
    this.#refreshing = true;
    try {
      const kept = await this.#client.pexpire(this.#key, this.#q.leaseTtlMs);
      if (kept === 0 && !this.#stopped) {
        this.stop();
        this.lapsed = true;
        this.#onLapsed(
          new QueueError(
            `Run ${this.#runId} lost its lease on queue ${this.#q.queue}: it was not refreshed within ${this.#q.leaseTtlMs} ms (the process stalled?), so workers skip its batches (backend.leaseTtlMs)`,
            {},
            'lost',
          ),
        );
      }
    } catch (error) {
      debug('producer: lease refresh of run %s failed: %s', this.#runId, (error as Error).message);
    } finally {
      this.#refreshing = false;
    }
  }

  /** Stops refreshing (the key then lapses on its own). Idempotent. */
  stop(): void {
    this.#stopped = true;
    clearInterval(this.#timer);
  }

  /** Stops refreshing, deletes the lease and unlists the run. */
  async release(): Promise<void> {
    this.stop();
    await this.#client.multi().del(this.#key).srem(runsKey(this.#q), this.#runId).exec();
  }
}

/** Removes the jobs waiting and every key of each run of the queue whose lease has lapsed. */
async function sweepDeadRuns(client: Redis, queue: Queue, q: ResolvedQueueOptions): Promise<void> {
  const runs = await client.smembers(runsKey(q));
  if (runs.length === 0) return;
  const checks = client.pipeline();
  for (const runId of runs) checks.exists(leaseKey(runBase(q, runId)));
  const alive = (await checks.exec()) ?? [];
  const dead = runs.filter((_, i) => alive[i]?.[0] === null && alive[i]?.[1] === 0);
  if (dead.length === 0) return;
  // a run queues at most its window ahead, so the queue's idle jobs are few
  const ids = await queue.getRanges([...IDLE_STATES], 0, -1);
  const jobs = ids.filter((id) => dead.some((runId) => id.startsWith(`${runId}-`)));
  await Promise.all(jobs.map((id) => queue.remove(id).catch(() => 0)));
  let keys = 0;
  for (const runId of dead) {
    keys += await deleteRunKeys(client, runBase(q, runId));
    await client.srem(runsKey(q), runId);
  }
  debug(
    'producer: removed %d dead run(s) from queue %s: %d job(s), %d key(s)',
    dead.length,
    q.queue,
    jobs.length,
    keys,
  );
}
