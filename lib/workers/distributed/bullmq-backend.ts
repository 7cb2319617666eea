/**
 * The producer side of distributed parallel stages: a {@link ParallelBackend} that sends each batch
 * through a BullMQ queue to `spillway worker` processes on any machine, and takes the results back.
 *
 * A batch is stored as one compressed binary key (Arrow IPC + LZ4, see payload.ts) with a TTL; the
 * job holds only its key. Workers store the result the same way and return its key. The first
 * completion of a job settles its batch; any later one (a batch run twice after a stall) is
 * counted and ignored. Retries are BullMQ attempts; timeouts are enforced in the workers. A worker
 * killed mid-batch stops renewing its job's lock and BullMQ's stalled-job check hands the batch to
 * another worker. Every key of the run is deleted when it ends or aborts; a producer that dies
 * lets its lease lapse (run-lease.ts), and the next run to start on the queue removes its leftovers.
 */
import { nodeCrypto } from '../../core/crypto.ts';
import { basename } from 'node:path';
import { logger } from '../../core/log.ts';
import type { Queue, QueueEvents } from 'bullmq';
import { DeadLetterFile } from '../../io/dead-letter.ts';
import { QueueError, ValidationError, WorkerError, describeValue } from '../../core/errors.ts';
import { inputRows, isArrowInput } from '../pool/backend.ts';
import type { BatchInput, ParallelBackend } from '../pool/backend.ts';
import type { ParallelOptions } from '../pool/options.ts';
import type { PoolStats } from '../pool/worker-pool.ts';
import { payloadKey } from './job.ts';
import type { BatchJobData, BatchJobResult } from './job.ts';
import { redact, redactError } from './options.ts';
import type { BullmqBackendOptions } from './options.ts';
import { payloadModule } from './payload-lazy.ts';
import { bullmqConnection, connectRedis, withTimeout } from './redis.ts';
import { loadBullmq } from './peer.ts';
import type { RedisHandle } from './redis.ts';
import { resolveBullmqOptions, type ResolvedBullmqOptions } from './backend-options.ts';
import { RemoteCounters } from './remote-stats.ts';
import { abandonedError, collectResult, giveUpBatch, type Pending, type RunContext } from './results.ts';
import { closeBull, removeRun } from './teardown.ts';
import { leaseKey, RunLease, runBase } from './run-lease.ts';
import { liveWorkers, noWorkersError, presenceKey, WorkerWatch } from './worker-presence.ts';

const debug = logger('distributed');

export type { RemoteWorkerStats } from './remote-stats.ts';
export { resolveBullmqOptions, type ResolvedBullmqOptions } from './backend-options.ts';

/**
 * Runs batches on `spillway worker` processes through a BullMQ queue on Redis.
 *
 * ```ts
 * const backend = new BullmqBackend(new URL('./score.ts', import.meta.url), {}, { type: 'bullmq', connection: { host, port }, queue: 'score' });
 * const rows = await backend.run(0, [{ n: 1 }]);
 * await backend.close();
 * ```
 */
export class BullmqBackend implements ParallelBackend {
  /** The validated options. */
  readonly options: Readonly<ResolvedBullmqOptions>;
  /** This run's id: part of every job id and key. */
  readonly runId = nodeCrypto().randomBytes(6).toString('hex');
  readonly #base: string;
  readonly #secrets: (string | undefined)[];
  readonly #deadLetter: DeadLetterFile | undefined;
  readonly #pending = new Map<string, Pending>();
  readonly #counters = new RemoteCounters();
  #redis: RedisHandle | undefined;
  #queue: Queue | undefined;
  #events: QueueEvents | undefined;
  #starting: Promise<void> | undefined;
  #started: Promise<void> | undefined;
  #seq = 0;
  #closing = false;
  #destroyed = false;
  #destroying: Promise<void> | undefined;
  #fatal: Error | undefined;
  #idleWaiters: (() => void)[] = [];
  /** Batches failed by a fatal error whose jobs may still be queued. */
  #failedPending: Pending[] = [];
  readonly #watch: WorkerWatch;
  #lease: RunLease | undefined;

  /** Validates every option synchronously; connects nothing (see {@link BullmqBackend.start}). */
  constructor(module: URL | string, options: ParallelOptions | undefined, backend: BullmqBackendOptions) {
    this.options = Object.freeze(resolveBullmqOptions(module, options, backend));
    this.#watch = new WorkerWatch(
      this.options.queue.noWorkerTimeoutMs,
      () => this.#pending.size,
      () => liveWorkers(this.#redis!.client, presenceKey(this.options.queue.prefix, this.options.queue.queue)),
      (seen) => this.#fail(noWorkersError(this.options.queue, this.options.redis, seen)),
    );
    const q = this.options.queue;
    this.#base = runBase(q, this.runId);
    this.#secrets = [q.connection.password];
    this.#deadLetter = this.options.deadLetter === undefined ? undefined : new DeadLetterFile(this.options.deadLetter);
  }

  /** Connects to Redis (failing fast with a QueueError when it cannot) and subscribes to the queue's events. Idempotent. */
  start(): Promise<void> {
    this.#starting ??= this.#start();
    this.#started ??= this.#starting.catch(async (error: unknown) => {
      this.#fatal ??= error instanceof Error ? error : new Error(String(error));
      await this.destroy();
      throw this.#fatal;
    });
    return this.#started;
  }

  async #start(): Promise<void> {
    if (this.#closing) throw new WorkerError('The queue backend is closed', {}, 'closed', 0);
    const q = this.options.queue;
    const { Queue: QueueClass, QueueEvents: QueueEventsClass } = await loadBullmq();
    this.#redis = await connectRedis(q.connection, {
      role: 'producer',
      reconnectTimeoutMs: q.reconnectTimeoutMs,
      onLost: (error) => this.#fail(error),
    });
    if (this.#destroyed) return;
    const client = this.#redis.client;
    // events from now on only: start reading the stream at its current end
    const last = await client.xrevrange(`${q.prefix}:${q.queue}:events`, '+', '-', 'COUNT', 1);
    const lastEventId = last[0]?.[0] ?? '0-0';
    const connection = bullmqConnection(q.connection, 'spillway-producer', () => this.#destroyed);
    const queue = new QueueClass(q.queue, { connection, prefix: q.prefix });
    const events = new QueueEventsClass(q.queue, { connection, prefix: q.prefix, lastEventId });
    this.#queue = queue;
    this.#events = events;
    const onError = (error: Error): void => debug('producer: bullmq: %s', redact(error.message, this.#secrets));
    queue.on('error', onError);
    events.on('error', onError);
    events.on('active', ({ jobId }) => {
      if (this.#pending.has(jobId)) this.#watch.progress();
    });
    events.on('completed', ({ jobId, returnvalue }) => {
      if (this.#pending.has(jobId)) this.#watch.progress();
      this.#onCompleted(jobId, returnvalue as unknown);
    });
    events.on('failed', ({ jobId, failedReason }) => {
      if (this.#pending.has(jobId)) this.#watch.progress();
      this.#onFailed(jobId, failedReason);
    });
    events.on('stalled', ({ jobId }) => {
      if (!this.#pending.has(jobId)) return;
      this.#counters.stalled++;
      debug('producer: job %s stalled (its worker died?); BullMQ queues it again', jobId);
    });
    await withTimeout(
      Promise.all([queue.waitUntilReady(), events.waitUntilReady()]),
      q.connection.connectTimeoutMs + 1000,
      () => new QueueError(`BullMQ could not connect to Redis at ${this.options.redis}`, {}, 'unreachable'),
    );
    this.#lease = await RunLease.acquire(client, queue, q, this.runId, (error) => this.#fail(error));
    debug(
      'producer: run %s on queue %s at %s (window %d)',
      this.runId,
      q.queue,
      this.options.redis,
      this.options.window,
    );
  }

  /**
   * Queues one batch; resolves with its output rows once a worker has run it. Rejects with a
   * WorkerError after the retries, or a QueueError when Redis is unreachable or lost.
   */
  run(taskId: number, input: BatchInput): Promise<unknown[]> {
    if (!Array.isArray(input) && !isArrowInput(input))
      return Promise.reject(
        new ValidationError(`Expected \`input\` to be an array of rows or an ArrowInput, got ${describeValue(input)}`),
      );
    if (this.#fatal !== undefined) return Promise.reject(this.#fatal);
    if (this.#closing)
      return Promise.reject(new WorkerError('The queue backend is closed', { batch: taskId }, 'closed', 0));
    const seq = this.#seq++;
    const jobId = `${this.runId}-${seq}`;
    const result = new Promise<unknown[]>((resolve, reject) => {
      this.#pending.set(jobId, {
        seq,
        taskId,
        jobId,
        input,
        inKey: payloadKey(this.#base, 'in', seq),
        settling: false,
        resolve,
        reject,
      });
    });
    this.#enqueue(jobId).catch((error: unknown) => this.#settle(jobId, undefined, error));
    return result;
  }

  async #enqueue(jobId: string): Promise<void> {
    await this.start();
    const p = this.#pending.get(jobId);
    if (p === undefined || this.#destroyed) return;
    const o = this.options;
    const { encodeIpc, encodeRows } = await payloadModule.load();
    let bytes: Buffer;
    if (Array.isArray(p.input)) {
      const encoded = encodeRows(p.input);
      bytes = encoded.bytes;
      this.#counters.encodings[encoded.kind]++;
    } else {
      bytes = encodeIpc(p.input.encode());
      this.#counters.encodings.arrow++;
    }
    this.#counters.bytesSent += bytes.byteLength;
    const data: BatchJobData = {
      v: 1,
      base: this.#base,
      seq: p.seq,
      task: p.taskId,
      input: p.inKey,
      lease: leaseKey(this.#base),
      rows: inputRows(p.input),
      kind: o.kind,
      export: o.exportName,
      timeoutMs: o.timeoutMs ?? null,
      ttlMs: o.queue.payloadTtlMs,
      module: basename(o.moduleUrl.pathname),
    };
    await this.#redis!.client.set(p.inKey, bytes, 'PX', o.queue.payloadTtlMs);
    this.#watch.queued();
    // failed jobs stay until we read their attempts (then we remove them); completed ones go at once
    await this.#queue!.add('batch', data, {
      jobId,
      attempts: o.retries + 1,
      removeOnComplete: true,
      removeOnFail: false,
    });
  }

  #onCompleted(jobId: string, value: unknown): void {
    const p = this.#pending.get(jobId);
    if (p === undefined || p.settling) {
      if (jobId.startsWith(`${this.runId}-`)) {
        // a batch run twice (a stalled worker that finished after all): counted once
        this.#counters.duplicates++;
        debug('producer: job %s completed again; ignored', jobId);
      }
      return;
    }
    p.settling = true;
    collectResult(this.#run(), p, value as BatchJobResult).then(
      (rows) => this.#settle(jobId, rows),
      (error: unknown) => this.#settle(jobId, undefined, error),
    );
  }

  #onFailed(jobId: string, failedReason: string | undefined): void {
    const p = this.#pending.get(jobId);
    if (p === undefined || p.settling) return;
    p.settling = true;
    giveUpBatch(this.#run(), p, failedReason).then(
      (rows) => this.#settle(jobId, rows),
      (error: unknown) => this.#settle(jobId, undefined, error),
    );
  }

  /** The run as settling a batch sees it now. */
  #run(): RunContext {
    return {
      redis: this.#redis,
      queue: this.#queue,
      base: this.#base,
      secrets: this.#secrets,
      retries: this.options.retries,
      counters: this.#counters,
      deadLetter: this.#deadLetter,
    };
  }

  #settle(jobId: string, rows: unknown[] | undefined, error?: unknown): void {
    const p = this.#pending.get(jobId);
    if (p === undefined) return;
    this.#pending.delete(jobId);
    if (rows !== undefined) p.resolve(rows);
    else p.reject(this.#fatal ?? this.#clean(error));
    this.#notifyIdle();
  }

  /** Errors from Redis clients may quote commands or URLs: scrub credentials before they leave. */
  #clean(error: unknown): unknown {
    if (error instanceof WorkerError || error instanceof QueueError || error instanceof ValidationError) return error;
    const cleaned = redactError(error, this.#secrets);
    return new QueueError(`Redis failed during the run at ${this.options.redis}: ${cleaned.message}`, {}, 'lost', {
      cause: cleaned,
    });
  }

  /** Redis is gone (or no worker came): every pending batch fails with `error`, and so does every later call. */
  #fail(error: Error): void {
    this.#watch.stop();
    this.#lease?.stop();
    this.#fatal ??= error;
    // their jobs may still wait in the queue: destroy() removes them with the rest of the run
    for (const p of this.#pending.values()) this.#failedPending.push(p);
    for (const p of [...this.#pending.values()]) this.#settle(p.jobId, undefined, error);
  }

  /** Counters per remote worker (by id and host) and totals; no credentials. */
  stats(): PoolStats {
    return this.#counters.stats([...this.#pending.values()].filter((p) => !p.settling).length);
  }

  /** What the stage shows in its `details`: the queue, the server (no credentials) and the payload counters. */
  details(): Record<string, string | number> {
    return {
      backend: 'bullmq',
      queue: this.options.queue.queue,
      redis: this.options.redis,
      runId: this.runId,
      ...this.#counters.details(),
    };
  }

  /** Remote workers are not this machine's children. */
  pids(): number[] {
    return [];
  }

  /** Waits for pending batches (at most `timeoutMs`, default 30 s), then releases everything. */
  async close(timeoutMs = 30_000): Promise<void> {
    this.#closing = true;
    let timer: NodeJS.Timeout | undefined;
    try {
      if (!this.#destroyed && this.#pending.size > 0) {
        await Promise.race([
          new Promise<void>((resolve) => this.#idleWaiters.push(resolve)),
          new Promise<void>((resolve) => {
            timer = setTimeout(resolve, timeoutMs);
          }),
        ]);
      }
      if (this.#fatal === undefined) await this.#counters.readFailures(this.#redis?.client, this.#base).catch(() => {});
    } finally {
      clearTimeout(timer);
      await this.destroy();
    }
  }

  /** Fails pending batches (`closed`), removes this run's jobs and keys, disconnects. Idempotent. */
  destroy(): Promise<void> {
    this.#destroying ??= this.#destroy();
    return this.#destroying;
  }

  async #destroy(): Promise<void> {
    this.#destroyed = true;
    this.#watch.stop();
    this.#closing = true;
    const abandoned = [...this.#pending.values(), ...this.#failedPending.splice(0)];
    for (const p of abandoned) this.#settle(p.jobId, undefined, abandonedError(p));
    // wait for start to finish (or fail) so no connection opens after this
    await this.#starting?.catch(() => {});
    this.#lease?.stop();
    // a lapsed lease is a lost run, not a lost connection: its keys can still be removed
    const lost =
      this.#fatal instanceof QueueError &&
      (this.#fatal.reason === 'unreachable' || this.#fatal.reason === 'lost') &&
      this.#lease?.lapsed !== true;
    if (!lost && this.#redis !== undefined) {
      await removeRun({
        queue: this.#queue,
        client: this.#redis.client,
        base: this.#base,
        runId: this.runId,
        abandoned,
        secrets: this.#secrets,
        payloadTtlMs: this.options.queue.payloadTtlMs,
        lease: this.#lease,
      });
    }
    await Promise.all([
      closeBull(this.#events),
      closeBull(this.#queue),
      this.#redis?.close(),
      this.#deadLetter?.close(),
    ]);
    this.#notifyIdle();
  }

  #notifyIdle(): void {
    if (this.#idleWaiters.length === 0 || (this.#pending.size > 0 && !this.#destroyed)) return;
    for (const resolve of this.#idleWaiters.splice(0)) resolve();
  }
}
