/**
 * The consumer side of distributed parallel stages (what `spillway worker` runs): a BullMQ worker
 * that takes batch jobs from a queue, reads each batch's payload key, runs the user module in a
 * local supervised pool (threads or processes, so user code never blocks the lock renewals, and a
 * per-batch timeout can kill it), stores the result as a payload key and returns its name.
 *
 * Failures are reported as `reason: message` so the producer tells timeouts from crashes; each
 * failed attempt is also counted per worker in a Redis hash of the run. A job whose payload is gone
 * (the run ended or was aborted), or whose run's lease has lapsed (its producer died, see
 * run-lease.ts), is skipped and its payload removed: nobody would read its result.
 */
import { hostname } from 'node:os';
import { basename } from 'node:path';
import { access } from 'node:fs/promises';
import { constants as fsConstants } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { logger } from '../../core/log.ts';
import type { Job, Worker } from 'bullmq';
import { WorkerError } from '../../core/errors.ts';
import type { WorkerFailureReason } from '../../core/errors.ts';
import { WorkerPool } from '../pool/worker-pool.ts';
import { toModuleUrl } from '../pool/options.ts';
import type { BatchInput } from '../pool/backend.ts';
import { expectOneOf, expectString } from '../../core/validate.ts';
import { expectJobData, failureMessage, failuresKey, payloadKey, workersKey } from './job.ts';
import type { BatchJobData, BatchJobResult } from './job.ts';
import { connectionLabel, expectQueueName, redact, resolveConnection, resolveWorkerTimings } from './options.ts';
import type { QueueWorkerOptions, ResolvedConnection } from './options.ts';
import { decodePayload, encodeRows, ipcToRows } from './payload.ts';
import { bullmqConnection, connectRedis, withTimeout } from './redis.ts';
import { loadBullmq } from './peer.ts';
import { ModuleProbeTimeout, probeModule } from './module-probe.ts';
import type { RedisHandle } from './redis.ts';
import { terminalSafe } from '../../observe/terminal-text.ts';
import { presenceKey, WorkerPresence } from './worker-presence.ts';

const debug = logger('distributed');

/** What a worker has done so far. */
export interface QueueWorkerStats {
  id: string;
  host: string;
  pid: number;
  batches: number;
  rows: number;
  failures: number;
  /** Jobs whose run had ended before they ran. */
  skipped: number;
  busyMs: number;
}

/** Runs batch jobs from a BullMQ queue through a local pool (see the module comment). */
export class QueueWorker {
  /** The id the producer's stats show. */
  readonly id: string;
  readonly host = hostname();
  readonly #connection: ResolvedConnection;
  readonly #queueName: string;
  readonly #prefix: string;
  readonly #moduleUrl: URL;
  readonly #isolation: 'thread' | 'process';
  readonly #memoryLimit: string | number | undefined;
  readonly #timings: ReturnType<typeof resolveWorkerTimings>;
  readonly #pools = new Map<string, WorkerPool>();
  readonly #stats: QueueWorkerStats;
  readonly #warned = new Set<string>();
  #redis: RedisHandle | undefined;
  #worker: Worker | undefined;
  #presence: WorkerPresence | undefined;
  #closed: Promise<void> | undefined;
  #closing = false;

  /** Validates the options synchronously; connects nothing until {@link QueueWorker.start}. */
  constructor(options: QueueWorkerOptions) {
    this.#connection = resolveConnection(options.connection, 'options.connection');
    this.#queueName = expectQueueName(options.queue, 'options.queue');
    this.#prefix = options.prefix === undefined ? 'bull' : expectQueueName(options.prefix, 'options.prefix');
    this.#moduleUrl = toModuleUrl(options.module, 'options.module');
    this.#isolation = expectOneOf(options.isolation, 'options.isolation', ['thread', 'process'] as const, 'thread');
    this.#memoryLimit = options.workerMemoryLimit;
    this.#timings = resolveWorkerTimings(options);
    this.id = options.id === undefined ? `${this.host}:${process.pid}` : expectString(options.id, 'options.id');
    this.#stats = {
      id: this.id,
      host: this.host,
      pid: process.pid,
      batches: 0,
      rows: 0,
      failures: 0,
      skipped: 0,
      busyMs: 0,
    };
  }

  /** `redis://host:port/db` of the server (no credentials). */
  get redis(): string {
    return connectionLabel(this.#connection);
  }

  /** Counters so far. */
  stats(): QueueWorkerStats {
    return { ...this.#stats };
  }

  /** Connects (failing fast with a QueueError when Redis cannot be reached) and starts taking jobs. */
  async start(): Promise<void> {
    await this.#checkModule();
    const { Worker: WorkerClass } = await loadBullmq();
    // a worker outlives Redis restarts: it keeps reconnecting (BullMQ does the same)
    this.#redis = await connectRedis(this.#connection, { role: 'worker', reconnectTimeoutMs: 2 ** 31 - 1 });
    const t = this.#timings;
    const worker = new WorkerClass(this.#queueName, (job: Job) => this.#process(job), {
      connection: bullmqConnection(this.#connection, 'spillway-worker', () => this.#closing),
      prefix: this.#prefix,
      concurrency: t.concurrency,
      lockDuration: t.lockDurationMs,
      stalledInterval: t.stalledIntervalMs,
      maxStalledCount: t.maxStalledCount,
      autorun: false,
    });
    this.#worker = worker;
    worker.on('error', (error: Error) => this.#log(`bullmq: ${redact(error.message, [this.#connection.password])}`));
    await withTimeout(
      worker.waitUntilReady(),
      this.#connection.connectTimeoutMs + 1000,
      () => new Error(`BullMQ could not connect to ${this.redis}`),
    );
    // in the queue's presence set from before the first job until closed (a producer whose
    // workers all died stops waiting: worker-presence.ts); the pid keeps two workers of one id apart
    this.#presence = await WorkerPresence.join(
      this.#redis.client,
      presenceKey(this.#prefix, this.#queueName),
      `${this.id}#${process.pid}`,
      t.lockDurationMs,
    );
    void worker
      .run()
      .catch((error: unknown) =>
        this.#log(`stopped: ${redact((error as Error).message, [this.#connection.password])}`),
      );
    this.#log(
      `taking batches from queue ${this.#queueName} at ${this.redis} (concurrency ${t.concurrency}, ${this.#isolation === 'process' ? 'processes' : 'threads'}, module ${basename(this.#moduleUrl.pathname)})`,
      true,
    );
  }

  /**
   * Fails at start, with a WorkerError (`start`), when the module file cannot be read, throws on
   * import, does not finish importing within `moduleTimeoutMs`, or exports no function: a worker that cannot run it would otherwise take jobs from the
   * queue only to fail every one of them. The import runs once, in a thread (module-probe.ts).
   */
  async #checkModule(): Promise<void> {
    const file = this.#moduleUrl.protocol === 'file:' ? fileURLToPath(this.#moduleUrl) : this.#moduleUrl.href;
    const refuse = (reason: string, cause: unknown): WorkerError =>
      new WorkerError(`Cannot load module ${file}: ${reason}`, { file }, 'start', 0, { cause });
    if (this.#moduleUrl.protocol === 'file:') {
      try {
        await access(file, fsConstants.R_OK);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        throw refuse(code === 'ENOENT' ? 'no such file' : (error as Error).message, error);
      }
    }
    let exports: string[];
    try {
      exports = await probeModule(this.#moduleUrl, this.#timings.moduleTimeoutMs);
    } catch (error) {
      const hung = error instanceof ModuleProbeTimeout;
      throw refuse(hung ? error.message : `importing it failed: ${(error as Error).message}`, error);
    }
    if (exports.length === 0)
      throw refuse(
        'it exports no function (parallel() calls its default export, or the one named by options.export)',
        undefined,
      );
    debug('worker %s: module %s exports %s', this.id, file, exports.join(', '));
  }

  /** Finishes the batches it is running (at most `timeoutMs`, default 60 s), then stops. */
  close(timeoutMs = 60_000): Promise<void> {
    this.#closed ??= this.#close(false, timeoutMs);
    return this.#closed;
  }

  /**
   * Stops now: batches running are abandoned (BullMQ hands them to another worker after the lock
   * expires). The local workers are killed before this returns (synchronously), so a process
   * that exits right after (`spillway worker` on a second signal) leaves no child behind.
   */
  destroy(): Promise<void> {
    const pools = [...this.#pools.values()].map((pool) => pool.destroy());
    return Promise.all([this.#close(true, 1000), ...pools]).then(() => undefined);
  }

  async #close(force: boolean, timeoutMs: number): Promise<void> {
    this.#closing = true;
    try {
      if (this.#worker !== undefined)
        await withTimeout(this.#worker.close(force), timeoutMs, () => new Error('worker close timed out'));
    } catch (error) {
      this.#log(`close: ${(error as Error).message}`);
      Promise.resolve(this.#worker?.disconnect()).catch(() => {});
    }
    await Promise.all([...this.#pools.values()].map((pool) => (force ? pool.destroy() : pool.close(timeoutMs))));
    await this.#presence?.stop();
    await this.#redis?.close();
  }

  #pool(d: BatchJobData): WorkerPool {
    const key = `${d.kind}|${d.export}|${d.timeoutMs ?? ''}`;
    let pool = this.#pools.get(key);
    if (pool === undefined) {
      pool = new WorkerPool(this.#moduleUrl, {
        workers: this.#timings.concurrency,
        isolation: this.#isolation,
        retries: 0, // BullMQ retries, possibly on another machine
        kind: d.kind,
        export: d.export,
        ...(d.timeoutMs === null ? {} : { timeoutMs: d.timeoutMs }),
        ...(this.#memoryLimit === undefined ? {} : { workerMemoryLimit: this.#memoryLimit }),
      });
      this.#pools.set(key, pool);
    }
    return pool;
  }

  async #process(job: Job): Promise<BatchJobResult> {
    const d = expectJobData(job.data);
    const client = this.#redis!.client;
    const started = performance.now();
    const result = (out?: string): BatchJobResult => ({
      ...(out === undefined ? { skipped: true } : { out }),
      worker: this.id,
      host: this.host,
      pid: process.pid,
      ms: Math.round(performance.now() - started),
      attemptsBefore: job.attemptsMade,
    });
    if (d.module !== basename(this.#moduleUrl.pathname) && !this.#warned.has(d.module)) {
      this.#warned.add(d.module);
      this.#log(
        `warning: the producer runs ${d.module} but this worker loads ${basename(this.#moduleUrl.pathname)}`,
        true,
      );
    }
    const [bytes, alive] = await Promise.all([client.getBuffer(d.input), this.#runAlive(d)]);
    if (bytes === null || !alive) {
      this.#stats.skipped++;
      debug('worker %s: batch %d skipped, its run has %s', this.id, d.task, alive ? 'ended' : 'no producer');
      if (!alive) await client.del(d.input);
      return result();
    }
    const payload = decodePayload(bytes, `batch ${d.task}`);
    const input: BatchInput =
      payload.kind === 'v8'
        ? payload.rows
        : { numRows: d.rows, encode: () => payload.ipc, rows: () => ipcToRows(payload.ipc) };
    let out: unknown[];
    try {
      out = await this.#pool(d).run(d.task, input);
    } catch (error) {
      this.#stats.busyMs += performance.now() - started;
      // the run gave up meanwhile (another batch failed): a failed job would stay in BullMQ's
      // failed set for good (removeOnFail: false; the producer that reads and removes them is
      // gone), so it completes as skipped and is removed like any completed job
      if (!(await this.#runStillWaits(d))) {
        this.#stats.skipped++;
        return result();
      }
      this.#stats.failures++;
      const reason: WorkerFailureReason = error instanceof WorkerError ? error.reason : 'error';
      const cause = error instanceof WorkerError && error.cause instanceof Error ? error.cause : error;
      const message = cause instanceof Error ? cause.message : String(cause);
      this.#log(`batch ${d.task} attempt ${job.attemptsMade + 1} failed (${reason}): ${message}`);
      await this.#recordFailure(d).catch(() => {});
      throw new Error(failureMessage(reason, message));
    }
    const encoded = encodeRows(out);
    // the run may have ended (aborted) or died meanwhile: do not leave a result nobody reads
    if (!(await this.#runStillWaits(d))) {
      this.#stats.skipped++;
      return result();
    }
    const outKey = payloadKey(d.base, 'out', d.seq, this.id);
    await client.set(outKey, encoded.bytes, 'PX', d.ttlMs);
    this.#stats.batches++;
    this.#stats.rows += d.rows;
    this.#stats.busyMs += performance.now() - started;
    debug(
      'worker %s: batch %d (%d rows -> %d, %s) in %d ms',
      this.id,
      d.task,
      d.rows,
      out.length,
      encoded.kind,
      Math.round(performance.now() - started),
    );
    return result(outKey);
  }

  /** True while the batch's run still waits for it: its payload is there and its producer alive (else the payload is removed). */
  async #runStillWaits(d: BatchJobData): Promise<boolean> {
    const client = this.#redis!.client;
    if ((await client.exists(d.input)) === 1 && (await this.#runAlive(d))) return true;
    await client.del(d.input);
    return false;
  }

  /** False once the run's lease has lapsed (its producer died); runs from before leases count as alive. */
  async #runAlive(d: BatchJobData): Promise<boolean> {
    return d.lease === undefined || (await this.#redis!.client.exists(d.lease)) === 1;
  }

  async #recordFailure(d: BatchJobData): Promise<void> {
    const client = this.#redis!.client;
    const failures = failuresKey(d.base);
    const workers = workersKey(d.base);
    await client
      .multi()
      .hincrby(failures, this.id, 1)
      .hset(workers, this.id, JSON.stringify({ host: this.host, pid: process.pid }))
      .pexpire(failures, d.ttlMs)
      .pexpire(workers, d.ttlMs)
      .exec();
  }

  #log(message: string, always = false): void {
    debug('worker %s: %s', this.id, message);
    // messages carry user code's errors and names from the queue: escaped for the terminal
    if (always || this.#timings.verbose) process.stderr.write(terminalSafe(`spillway worker ${this.id}: ${message}\n`));
  }
}
