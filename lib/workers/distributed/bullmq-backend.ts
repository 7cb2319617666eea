/**
 * The producer side of distributed parallel stages: a {@link ParallelBackend} that sends each batch
 * through a BullMQ queue to `spillway worker` processes on any machine, and takes the results back.
 *
 * A batch is stored as one compressed binary key (Arrow IPC + LZ4, see payload.ts) with a TTL; the
 * job holds only its key. Workers store the result the same way and return its key. The first
 * completion of a job settles its batch; any later one (a batch run twice after a stall) is
 * counted and ignored. Retries are BullMQ attempts; timeouts are enforced in the workers. A worker
 * killed mid-batch stops renewing its job's lock and BullMQ's stalled-job check hands the batch to
 * another worker. Every key of the run is deleted when it ends or aborts (TTLs cover a producer
 * that dies).
 */
import { randomBytes } from 'node:crypto';
import { basename } from 'node:path';
import createDebug from 'debug';
import type { Queue, QueueEvents } from 'bullmq';
import { DeadLetterFile } from '../../io/dead-letter.ts';
import { QueueError, ValidationError, WorkerError, describeValue } from '../../core/errors.ts';
import { expectBoolean, expectInteger, expectOneOf, expectOptions, expectString } from '../../core/validate.ts';
import { inputRows, isArrowInput } from '../pool/backend.ts';
import type { BatchInput, ParallelBackend } from '../pool/backend.ts';
import { toModuleUrl } from '../pool/options.ts';
import type { ParallelOptions } from '../pool/options.ts';
import { rowsPerSecond, sumWorkers, type PoolStats, type WorkerStats } from '../pool/worker-pool.ts';
import { failuresKey, parseFailure, payloadKey, workersKey } from './job.ts';
import type { BatchJobData, BatchJobResult } from './job.ts';
import { connectionLabel, redact, redactError, resolveQueueOptions } from './options.ts';
import type { BullmqBackendOptions, ResolvedQueueOptions } from './options.ts';
import { decodePayload, encodeIpc, encodeRows, payloadRows } from './payload.ts';
import { bullmqConnection, connectRedis, withTimeout } from './redis.ts';
import { loadBullmq } from './peer.ts';
import type { RedisHandle } from './redis.ts';

const debug = createDebug('spillway:distributed');

/** Counters of one remote worker (`spillway worker` process), by its id and host. */
export interface RemoteWorkerStats extends WorkerStats {
  /** The worker's host name. */
  host: string;
}

/** Options of the parallel stage that apply to a queue; the rest configure local pools only. */
export interface ResolvedBullmqOptions {
  moduleUrl: URL;
  ordered: boolean;
  window: number;
  timeoutMs: number | undefined;
  retries: number;
  kind: 'row' | 'batch';
  exportName: string;
  deadLetter: string | undefined;
  queue: ResolvedQueueOptions;
  /** `redis://host:port/db` (no credentials). */
  redis: string;
}

const LOCAL_ONLY = [
  'workers',
  'isolation',
  'maxTasksPerWorker',
  'workerMemoryLimit',
  'memoryCheckIntervalMs',
  'replaceOnError',
] as const;

/** Validates the stage's options for the BullMQ backend synchronously. */
export function resolveBullmqOptions(
  module: unknown,
  options: ParallelOptions | undefined,
  backend: BullmqBackendOptions,
): ResolvedBullmqOptions {
  const o = expectOptions(options);
  for (const key of LOCAL_ONLY) {
    if (o[key] !== undefined)
      throw new ValidationError(
        `\`options.${key}\` configures the local pool; with backend 'bullmq' set it on each \`spillway worker\` (--concurrency, --isolation, ...)`,
      );
  }
  let deadLetter: string | undefined;
  if (o.onError !== undefined && o.onError !== 'fail') {
    const policy = o.onError as unknown;
    if (policy === null || typeof policy !== 'object' || Array.isArray(policy))
      throw new ValidationError(
        `Expected \`options.onError\` to be 'fail' or { deadLetter: path }, got ${describeValue(policy)}`,
      );
    deadLetter = expectString((policy as { deadLetter?: unknown }).deadLetter, 'options.onError.deadLetter');
  }
  const queue = resolveQueueOptions(backend);
  return {
    moduleUrl: toModuleUrl(module),
    ordered: expectBoolean(o.ordered, 'options.ordered', true),
    window: expectInteger(o.window, 'options.window', 16, 1),
    timeoutMs:
      o.timeoutMs === undefined ? undefined : expectInteger(o.timeoutMs, 'options.timeoutMs', 1, 1, 2 ** 31 - 1),
    retries: expectInteger(o.retries, 'options.retries', 2, 0, 100),
    kind: expectOneOf(o.kind, 'options.kind', ['row', 'batch'] as const, 'row'),
    exportName: o.export === undefined ? 'default' : expectString(o.export, 'options.export'),
    deadLetter,
    queue,
    redis: connectionLabel(queue.connection),
  };
}

interface Pending {
  seq: number;
  taskId: number;
  jobId: string;
  input: BatchInput;
  inKey: string;
  settling: boolean;
  resolve: (rows: unknown[]) => void;
  reject: (error: unknown) => void;
}

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
  readonly runId = randomBytes(6).toString('hex');
  readonly #base: string;
  readonly #secrets: (string | undefined)[];
  readonly #deadLetter: DeadLetterFile | undefined;
  readonly #pending = new Map<string, Pending>();
  readonly #workers = new Map<string, RemoteWorkerStats>();
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
  #duplicates = 0;
  #stalled = 0;
  #deadBatches = 0;
  #deadRows = 0;
  #failedBatches = 0;
  #workerSeen = false;
  /** Batches failed by a fatal error whose jobs may still be queued. */
  #failedPending: Pending[] = [];
  #noWorkerTimer: NodeJS.Timeout | undefined;
  #encodings = { arrow: 0, v8: 0 };
  #bytesSent = 0;
  #bytesReceived = 0;

  /** Validates every option synchronously; connects nothing (see {@link BullmqBackend.start}). */
  constructor(module: URL | string, options: ParallelOptions | undefined, backend: BullmqBackendOptions) {
    this.options = Object.freeze(resolveBullmqOptions(module, options, backend));
    const q = this.options.queue;
    this.#base = `${q.prefix}:${q.queue}:spillway:${this.runId}`;
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
      if (this.#pending.has(jobId)) this.#taken();
    });
    events.on('completed', ({ jobId, returnvalue }) => {
      if (this.#pending.has(jobId)) this.#taken();
      this.#onCompleted(jobId, returnvalue as unknown);
    });
    events.on('failed', ({ jobId, failedReason }) => this.#onFailed(jobId, failedReason));
    events.on('stalled', ({ jobId }) => {
      if (!this.#pending.has(jobId)) return;
      this.#stalled++;
      debug('producer: job %s stalled (its worker died?); BullMQ queues it again', jobId);
    });
    await withTimeout(
      Promise.all([queue.waitUntilReady(), events.waitUntilReady()]),
      q.connection.connectTimeoutMs + 1000,
      () => new QueueError(`BullMQ could not connect to Redis at ${this.options.redis}`, {}, 'unreachable'),
    );
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
    let bytes: Buffer;
    if (Array.isArray(p.input)) {
      const encoded = encodeRows(p.input);
      bytes = encoded.bytes;
      this.#encodings[encoded.kind]++;
    } else {
      bytes = encodeIpc(p.input.encode());
      this.#encodings.arrow++;
    }
    this.#bytesSent += bytes.byteLength;
    const data: BatchJobData = {
      v: 1,
      base: this.#base,
      seq: p.seq,
      task: p.taskId,
      input: p.inKey,
      rows: inputRows(p.input),
      kind: o.kind,
      export: o.exportName,
      timeoutMs: o.timeoutMs ?? null,
      ttlMs: o.queue.payloadTtlMs,
      module: basename(o.moduleUrl.pathname),
    };
    await this.#redis!.client.set(p.inKey, bytes, 'PX', o.queue.payloadTtlMs);
    this.#watchForWorkers();
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
        this.#duplicates++;
        debug('producer: job %s completed again; ignored', jobId);
      }
      return;
    }
    p.settling = true;
    this.#collect(p, value as BatchJobResult).then(
      (rows) => this.#settle(jobId, rows),
      (error: unknown) => this.#settle(jobId, undefined, error),
    );
  }

  async #collect(p: Pending, result: BatchJobResult): Promise<unknown[]> {
    const client = this.#redis!.client;
    if (result === null || typeof result !== 'object' || typeof result.worker !== 'string')
      throw new QueueError(
        `Batch ${p.taskId} completed without a spillway result (another application on this queue?)`,
        { batch: p.taskId },
        'payload',
      );
    if (result.out === undefined)
      throw new QueueError(
        `Batch ${p.taskId} was skipped by worker ${result.worker}: its payload had expired (raise payloadTtlMs)`,
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
    this.#bytesReceived += bytes.byteLength;
    const rows = payloadRows(decodePayload(bytes, `the result of batch ${p.taskId}`));
    void client.del(result.out, p.inKey).catch(() => {});
    const stats = this.#worker(result.worker, result.host, result.pid);
    stats.batches++;
    stats.rows += inputRows(p.input);
    stats.busyMs += result.ms;
    if (result.attemptsBefore > 0) await this.#readFailures();
    return rows;
  }

  #onFailed(jobId: string, failedReason: string | undefined): void {
    const p = this.#pending.get(jobId);
    if (p === undefined || p.settling) return;
    p.settling = true;
    this.#giveUp(p, failedReason).then(
      (rows) => this.#settle(jobId, rows),
      (error: unknown) => this.#settle(jobId, undefined, error),
    );
  }

  async #giveUp(p: Pending, failedReason: string | undefined): Promise<unknown[]> {
    const { reason, message } = parseFailure(failedReason);
    let attempts = this.options.retries + 1;
    try {
      const job = await this.#queue!.getJob(p.jobId);
      if (job !== undefined) {
        attempts = Math.max(1, job.attemptsMade);
        await job.remove().catch(() => {});
      }
      await this.#readFailures();
      void this.#redis!.client.del(p.inKey).catch(() => {});
    } catch (error) {
      debug('producer: could not read failed job %s: %s', p.jobId, redact((error as Error).message, this.#secrets));
    }
    this.#failedBatches++;
    const cause = new Error(message);
    if (this.#deadLetter === undefined) {
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
      await this.#deadLetter.write({
        stage: 'parallel',
        reason: message,
        code: reason,
        batch: p.taskId,
        attempts,
        row,
        data: rows[row],
      });
    }
    this.#deadBatches++;
    this.#deadRows += rows.length;
    return [];
  }

  /** Failed attempts per worker, as the workers recorded them in Redis. */
  async #readFailures(): Promise<void> {
    const client = this.#redis?.client;
    if (client === undefined) return;
    const [failures, workers] = await Promise.all([
      client.hgetall(failuresKey(this.#base)),
      client.hgetall(workersKey(this.#base)),
    ]);
    for (const [id, count] of Object.entries(failures)) {
      let host = 'unknown';
      let pid = 0;
      try {
        ({ host, pid } = JSON.parse(workers[id] ?? '{}') as { host: string; pid: number });
      } catch {
        // keep unknown
      }
      this.#worker(id, host, pid).failures = Number(count);
    }
  }

  #worker(id: string, host: string, pid: number): RemoteWorkerStats {
    let stats = this.#workers.get(id);
    if (stats === undefined) {
      stats = {
        id,
        host,
        pid,
        batches: 0,
        rows: 0,
        failures: 0,
        restarts: 0,
        recycles: 0,
        busyMs: 0,
        rowsPerSec: 0,
        exits: [],
      };
      this.#workers.set(id, stats);
    }
    return stats;
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

  /** Redis is gone: every pending batch fails with `error`, and so does every later call. */
  /**
   * From the first batch queued: unless some worker takes a batch of this run within
   * `noWorkerTimeoutMs`, the run fails with a QueueError (`no-workers`) instead of waiting forever.
   */
  #watchForWorkers(): void {
    const ms = this.options.queue.noWorkerTimeoutMs;
    if (ms === 0 || this.#workerSeen || this.#noWorkerTimer !== undefined) return;
    this.#noWorkerTimer = setTimeout(() => {
      if (this.#workerSeen || this.#destroyed) return;
      const q = this.options.queue;
      debug('producer: no worker took a batch of run %s in %d ms', this.runId, ms);
      this.#fail(
        new QueueError(
          `No worker took a batch from queue ${q.queue} at ${this.options.redis} within ${ms} ms: is \`spillway worker --queue ${q.queue}\` running? (backend.noWorkerTimeoutMs)`,
          {},
          'no-workers',
        ),
      );
    }, ms);
  }

  #taken(): void {
    this.#workerSeen = true;
    clearTimeout(this.#noWorkerTimer);
  }

  #fail(error: Error): void {
    clearTimeout(this.#noWorkerTimer);
    this.#fatal ??= error;
    // their jobs may still wait in the queue: destroy() removes them with the rest of the run
    for (const p of this.#pending.values()) this.#failedPending.push(p);
    for (const p of [...this.#pending.values()]) this.#settle(p.jobId, undefined, error);
  }

  /** Counters per remote worker (by id and host) and totals; no credentials. */
  stats(): PoolStats {
    const workers = [...this.#workers.values()].map((w) => ({
      ...w,
      exits: [...w.exits],
      rowsPerSec: rowsPerSecond(w.rows, w.busyMs),
    }));
    const failures = workers.reduce((n, w) => n + w.failures, 0);
    return {
      workers,
      totals: sumWorkers(workers, {
        retries: Math.max(0, failures - this.#failedBatches) + this.#stalled,
        deadLetteredBatches: this.#deadBatches,
        deadLetteredRows: this.#deadRows,
        queued: [...this.#pending.values()].filter((p) => !p.settling).length,
        running: 0,
      }),
    };
  }

  /** What the stage shows in its `details`: the queue, the server (no credentials) and the payload counters. */
  details(): Record<string, string | number> {
    return {
      backend: 'bullmq',
      queue: this.options.queue.queue,
      redis: this.options.redis,
      runId: this.runId,
      stalled: this.#stalled,
      duplicates: this.#duplicates,
      batchesAsArrow: this.#encodings.arrow,
      batchesAsV8: this.#encodings.v8,
      bytesSent: this.#bytesSent,
      bytesReceived: this.#bytesReceived,
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
      if (this.#fatal === undefined) await this.#readFailures().catch(() => {});
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
    clearTimeout(this.#noWorkerTimer);
    this.#closing = true;
    const abandoned = [...this.#pending.values(), ...this.#failedPending.splice(0)];
    for (const p of abandoned)
      this.#settle(
        p.jobId,
        undefined,
        new WorkerError(
          `Batch ${p.taskId} was abandoned: the queue backend was closed`,
          { batch: p.taskId },
          'closed',
          0,
        ),
      );
    // wait for start to finish (or fail) so no connection opens after this
    await this.#starting?.catch(() => {});
    const lost =
      this.#fatal instanceof QueueError && (this.#fatal.reason === 'unreachable' || this.#fatal.reason === 'lost');
    if (!lost && this.#redis !== undefined) {
      try {
        await withTimeout(this.#cleanup(abandoned), 2000, () => new Error('cleanup timed out'));
      } catch (error) {
        debug(
          'producer: cleanup of run %s incomplete (%s); its keys expire in %d ms',
          this.runId,
          redact((error as Error).message, this.#secrets),
          this.options.queue.payloadTtlMs,
        );
      }
    }
    await Promise.all([
      this.#closeBull(this.#events),
      this.#closeBull(this.#queue),
      this.#redis?.close(),
      this.#deadLetter?.close(),
    ]);
    this.#notifyIdle();
  }

  /** Removes jobs not yet taken (workers skip the rest: their payload is gone) and every key of the run. */
  async #cleanup(abandoned: Pending[]): Promise<void> {
    const queue = this.#queue;
    const client = this.#redis!.client;
    if (queue !== undefined) await Promise.all(abandoned.map((p) => queue.remove(p.jobId).catch(() => 0)));
    let cursor = '0';
    let removed = 0;
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', `${this.#base}:*`, 'COUNT', 500);
      cursor = next;
      if (keys.length > 0) removed += await client.del(...keys);
    } while (cursor !== '0');
    debug('producer: run %s ended; %d key(s) removed', this.runId, removed);
  }

  async #closeBull(closable: Queue | QueueEvents | undefined): Promise<void> {
    if (closable === undefined) return;
    try {
      await withTimeout(closable.close(), 1000, () => new Error('close timed out'));
    } catch {
      // not awaited: with Redis gone it may wait for a reconnection that never comes
      Promise.resolve(closable.disconnect()).catch(() => {});
    }
  }

  #notifyIdle(): void {
    if (this.#idleWaiters.length === 0 || (this.#pending.size > 0 && !this.#destroyed)) return;
    for (const resolve of this.#idleWaiters.splice(0)) resolve();
  }
}
