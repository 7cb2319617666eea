/**
 * Whether any `spillway worker` still serves a queue, so a producer can tell "the workers are
 * busy" from "every worker is gone". Each worker keeps its id in the queue's presence set
 * (`<prefix>:<queue>:spillway-workers`), scored with the time, on Redis's own clock (so the
 * machines' clocks never meet), until which it counts as alive: its last beat plus its lock
 * duration (`--lock-duration`, after which BullMQ too presumes a silent worker dead). It beats
 * every third of that; a worker that stops removes itself, one that dies drops out when its time
 * passes, and the set expires with the last worker.
 *
 * The producer's side is {@link WorkerWatch}: a run whose batches wait and that sees no batch
 * taken or finished for `noWorkerTimeoutMs` fails with a QueueError (`no-workers`) when no worker
 * took any of its batches, or when one did and the presence set is now empty (every worker died
 * mid-run), instead of waiting without a word for a worker that may never come.
 */
import type { Redis } from 'ioredis';
import { QueueError } from '../../core/errors.ts';
import { logger } from '../../core/log.ts';
import type { ResolvedQueueOptions } from './options.ts';

const debug = logger('distributed');

/** The set of a queue's live workers. */
export function presenceKey(prefix: string, queue: string): string {
  return `${prefix}:${queue}:spillway-workers`;
}

// Redis's clock in ms (TIME inside a script needs effects replication before Redis 5)
const NOW = `if redis.replicate_commands then redis.replicate_commands() end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)`;
const BEAT = `${NOW}
local ttl = tonumber(ARGV[2])
redis.call('ZADD', KEYS[1], now + ttl, ARGV[1])
if redis.call('PTTL', KEYS[1]) < ttl then redis.call('PEXPIRE', KEYS[1], ttl) end
return 1`;
const COUNT = `${NOW}
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
return redis.call('ZCARD', KEYS[1])`;

/** A worker's place in the presence set, refreshed every third of its time to live until {@link WorkerPresence.stop}. */
export class WorkerPresence {
  readonly #client: Redis;
  readonly #key: string;
  readonly #id: string;
  readonly #ttlMs: number;
  readonly #timer: NodeJS.Timeout;

  private constructor(client: Redis, key: string, id: string, ttlMs: number) {
    this.#client = client;
    this.#key = key;
    this.#id = id;
    this.#ttlMs = ttlMs;
    this.#timer = setInterval(() => void this.#beat().catch(() => undefined), Math.max(50, Math.floor(ttlMs / 3)));
    this.#timer.unref();
  }

  /**
   * Joins the set (one beat now, so a producer sees the worker before it takes a job); `ttlMs`:
   * how long after its last beat the worker counts as alive (its lock duration).
   */
  static async join(client: Redis, key: string, id: string, ttlMs: number): Promise<WorkerPresence> {
    const presence = new WorkerPresence(client, key, id, ttlMs);
    try {
      await presence.#beat();
    } catch (error) {
      clearInterval(presence.#timer);
      throw error;
    }
    return presence;
  }

  #beat(): Promise<unknown> {
    return this.#client.eval(BEAT, 1, this.#key, this.#id, this.#ttlMs);
  }

  /** Leaves the set (best effort: a gone Redis forgets it anyway). */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await this.#client.zrem(this.#key, this.#id).catch(() => undefined);
  }
}

/** Workers whose time in the set has not passed. */
export async function liveWorkers(client: Redis, key: string): Promise<number> {
  return Number(await client.eval(COUNT, 1, key));
}

/** What {@link WorkerWatch} calls when the run should stop waiting: `seen` is false when no worker took a batch. */
export type WorkersGone = (seen: boolean) => void;

/** The QueueError (`no-workers`) of a run that stopped waiting; `redis` is the server's label (no credentials). */
export function noWorkersError(
  q: Pick<ResolvedQueueOptions, 'queue' | 'noWorkerTimeoutMs'>,
  redis: string,
  seen: boolean,
): QueueError {
  const ms = q.noWorkerTimeoutMs;
  const message = seen
    ? `Every worker serving queue ${q.queue} at ${redis} is gone: batches of this run waited ${ms} ms with none taken or finished, and no \`spillway worker\` is alive (backend.noWorkerTimeoutMs)`
    : `No worker took a batch from queue ${q.queue} at ${redis} within ${ms} ms: is \`spillway worker --queue ${q.queue}\` running? (backend.noWorkerTimeoutMs)`;
  return new QueueError(message, {}, 'no-workers');
}

/** The producer's watch; see the module comment. */
export class WorkerWatch {
  readonly #ms: number;
  readonly #pending: () => number;
  readonly #alive: () => Promise<number>;
  readonly #gone: WorkersGone;
  #timer: NodeJS.Timeout | undefined;
  #since = 0;
  #seen = false;
  #asking = false;
  #stopped = false;

  /**
   * @param ms how long batches may wait with nothing taken or finished (0: forever)
   * @param pending batches of the run not yet settled
   * @param alive workers in the presence set now
   */
  constructor(ms: number, pending: () => number, alive: () => Promise<number>, gone: WorkersGone) {
    this.#ms = ms;
    this.#pending = pending;
    this.#alive = alive;
    this.#gone = gone;
  }

  /** A batch was queued: the watch starts with the first. */
  queued(): void {
    if (this.#ms === 0 || this.#stopped || this.#timer !== undefined) return;
    this.#since = Date.now();
    this.#timer = setInterval(() => this.#check(), Math.max(100, Math.floor(this.#ms / 4)));
    this.#timer.unref();
  }

  /** A worker took or finished a batch of the run. */
  progress(): void {
    this.#seen = true;
    this.#since = Date.now();
  }

  /** Ends the watch (the run ended or failed). */
  stop(): void {
    this.#stopped = true;
    clearInterval(this.#timer);
  }

  #check(): void {
    if (this.#stopped || this.#asking) return;
    const now = Date.now();
    if (this.#pending() === 0) this.#since = now;
    if (now - this.#since < this.#ms) return;
    if (!this.#seen) {
      this.stop();
      this.#gone(false);
      return;
    }
    this.#asking = true;
    this.#alive().then(
      (n) => {
        this.#asking = false;
        if (this.#stopped) return;
        if (n > 0) {
          // busy, not gone: wait another period before asking again
          this.#since = Date.now();
          return;
        }
        this.stop();
        this.#gone(true);
      },
      (error: unknown) => {
        // Redis trouble is the connection watch's to report
        this.#asking = false;
        debug('producer: cannot read the worker presence set: %s', (error as Error).message);
      },
    );
  }
}
