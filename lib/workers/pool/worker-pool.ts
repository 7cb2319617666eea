/**
 * A supervised pool of workers (threads or child processes) running a user module, one batch per
 * task. A worker that throws, crashes, runs out of memory or time is replaced and its batch
 * retried (first in the queue) up to `retries` times; then the batch fails with a WorkerError, or
 * its rows go to the dead-letter file and the batch yields no rows. Workers are recycled after
 * `maxTasksPerWorker` batches. Every worker ends with `close()` or `destroy()`: no orphans.
 */
import { formatBytes } from '../../core/format.ts';
import { logger } from '../../core/log.ts';
import { WorkerError, describeValue, ValidationError } from '../../core/errors.ts';
import type { WorkerFailureReason } from '../../core/errors.ts';
import { DeadLetterFile } from '../../io/dead-letter.ts';
import { resolvePoolOptions } from './options.ts';
import type { ParallelOptions, ResolvedPoolOptions } from './options.ts';
import { entryUrl, type PoolWorker, WorkerFailure } from './pool-worker.ts';
import { bundledEntry } from './entry-bundle.ts';
import { ProcessWorker } from './process-worker.ts';
import { inputRows, isArrowInput } from './backend.ts';
import type { BatchInput } from './backend.ts';
import type { InitMessage } from './protocol.ts';
import { ThreadWorker } from './thread-worker.ts';
import { brandClass } from '../../core/brand.ts';
import { rowsPerSecond, sumWorkers, type PoolStats } from './pool-stats.ts';
import { givenUpMessage, newSlot, taskPayload, type Slot, type Task } from './pool-task.ts';
import { ChildMemoryWatch } from './child-memory.ts';
import { deadLetterTask } from './give-up.ts';
import type { WorkerExitReason, WorkerStats } from './worker-stats.ts';

export type { WorkerExitReason, WorkerStats } from './worker-stats.ts';
export { rowsPerSecond, sumWorkers } from './pool-stats.ts';
export type { PoolStats, PoolTotals } from './pool-stats.ts';

const debug = logger('pool');

const MAX_EXITS = 100;
/** Workers of one slot that may die in a row before they are ready, once the module has loaded in one. */
const MAX_FAILED_STARTS = 3;
/** With `timeoutMs`, a worker has this many times it (and at least {@link MIN_START_LIMIT_MS}) to load the module. */
const START_LIMIT_FACTOR = 10;
const MIN_START_LIMIT_MS = 60_000;

/**
 * Runs batches of rows through a user module in supervised workers.
 *
 * ```ts
 * const pool = new WorkerPool(new URL('./score.ts', import.meta.url), { workers: 2 });
 * const out = await pool.run(0, rows);
 * await pool.close();
 * ```
 */
export class WorkerPool {
  /** The validated options. */
  readonly options: Readonly<ResolvedPoolOptions>;
  readonly #slots: Slot[] = [];
  readonly #queue: Task[] = [];
  readonly #live = new Set<PoolWorker>();
  readonly #deadLetter: DeadLetterFile | undefined;
  readonly #init: InitMessage;
  #started: Promise<void> | undefined;
  #closing = false;
  #destroyed = false;
  #fatal: WorkerError | undefined;
  /** A worker loaded the module: a later one that dies while it starts is replaced, not fatal. */
  #loadedOnce = false;
  #idleWaiters: (() => void)[] = [];
  #memoryWatch: ChildMemoryWatch | undefined;
  #retries = 0;
  #givingUp = 0;
  #deadBatches = 0;
  #deadRows = 0;
  #trackChild: ((pid: number) => () => void) | undefined;
  readonly #untrack = new Map<PoolWorker, () => void>();

  /** Validates the options synchronously; starts nothing (see {@link WorkerPool.start}). */
  constructor(module: URL | string, options?: ParallelOptions) {
    this.options = Object.freeze(resolvePoolOptions(module, options));
    const o = this.options;
    this.#deadLetter = o.deadLetter === undefined ? undefined : new DeadLetterFile(o.deadLetter);
    this.#init = { moduleUrl: o.moduleUrl.href, exportName: o.exportName, kind: o.kind };
    for (let index = 0; index < o.workers; index++) this.#slots.push(newSlot(index));
  }

  /**
   * Starts every worker and resolves when each has loaded the module. Rejects with a WorkerError
   * (reason `start`) when the module cannot be loaded; the pool is then destroyed. Idempotent;
   * {@link WorkerPool.run} calls it.
   */
  start(): Promise<void> {
    this.#started ??= this.#start();
    return this.#started;
  }

  async #start(): Promise<void> {
    this.#assertOpen();
    debug('starting %d %s worker(s) for %s', this.#slots.length, this.options.isolation, this.options.moduleUrl.href);
    if (this.options.isolation === 'thread') await bundledEntry(entryUrl());
    const starts = this.#slots.map((slot) => this.#spawn(slot));
    const results = await Promise.allSettled(starts);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed !== undefined || this.#fatal !== undefined) {
      const error = this.#fatal ?? this.#startError(failed?.reason);
      this.#fatal = error;
      await this.destroy();
      throw error;
    }
    const o = this.options;
    if (o.isolation === 'process' && o.workerMemoryLimit !== undefined)
      this.#memoryWatch = new ChildMemoryWatch(this.#slots, o.workerMemoryLimit, o.memoryCheckIntervalMs);
  }

  /**
   * Runs one batch; resolves with its output rows (row function: one output per input row, rows
   * for which it returned `undefined` are dropped; batch function: whatever array it returned).
   * `input` is rows, or an {@link ArrowInput} encoded to IPC bytes for each attempt and
   * transferred to a thread without a copy (threads) and decoded to rows in the worker.
   * Rows are copied, never transferred: their buffers stay the caller's.
   * Rejects with a WorkerError naming the batch and the last cause.
   */
  run(taskId: number, input: BatchInput): Promise<unknown[]> {
    try {
      if (!Array.isArray(input) && !isArrowInput(input))
        throw new ValidationError(
          `Expected \`input\` to be an array of rows or an ArrowInput, got ${describeValue(input)}`,
        );
      this.#assertOpen();
    } catch (error) {
      return Promise.reject(error);
    }
    // queued at once, so a close() right after this call drains it
    const result = new Promise<unknown[]>((resolve, reject) => {
      this.#queue.push({ taskId, input, attempts: 0, resolve, reject });
    });
    this.start().then(
      () => this.#pump(),
      () => {}, // the failed start rejected the queue with its error
    );
    return result;
  }

  /** Counters per worker slot and totals. */
  stats(): PoolStats {
    const workers = this.#slots.map((slot) => {
      const s = slot.stats;
      const worker = slot.worker;
      const copy: WorkerStats = { ...s, exits: [...s.exits], rowsPerSec: rowsPerSecond(s.rows, s.busyMs) };
      if (worker?.pid !== undefined) copy.pid = worker.pid;
      if (worker?.threadId !== undefined) copy.threadId = worker.threadId;
      return copy;
    });
    return {
      workers,
      totals: sumWorkers(workers, {
        retries: this.#retries,
        deadLetteredBatches: this.#deadBatches,
        deadLetteredRows: this.#deadRows,
        queued: this.#queue.length,
        running: this.#slots.filter((s) => s.task !== undefined).length,
      }),
    };
  }

  /**
   * Calls `track(pid)` for every child process the pool starts (process isolation), now and
   * later, and the function it returns when that child exits: how a memory governor counts the
   * children's memory. Threads share the process's memory and are not reported.
   */
  trackChildren(track: (pid: number) => () => void): void {
    this.#trackChild = track;
    for (const worker of this.#live) this.#track(worker);
  }

  #track(worker: PoolWorker): void {
    const pid = worker.pid;
    if (this.#trackChild === undefined || pid === undefined || worker.exited || this.#untrack.has(worker)) return;
    try {
      this.#untrack.set(worker, this.#trackChild(pid));
    } catch (error) {
      debug('could not track child %d: %s', pid, (error as Error).message);
    }
  }

  /** Process ids of the live children (process isolation), for a memory governor to sample. */
  pids(): number[] {
    const pids: number[] = [];
    for (const worker of this.#live) if (worker.pid !== undefined && !worker.exited) pids.push(worker.pid);
    return pids;
  }

  /**
   * Waits for queued and running batches to finish (at most `timeoutMs`, default 30 s), then
   * ends every worker. Batches still pending at the deadline fail with a WorkerError (`closed`).
   */
  async close(timeoutMs = 30_000): Promise<void> {
    this.#closing = true;
    let timer: NodeJS.Timeout | undefined;
    try {
      if (!this.#destroyed && !this.#isIdle()) {
        await Promise.race([
          new Promise<void>((resolve) => this.#idleWaiters.push(resolve)),
          new Promise<void>((resolve) => {
            timer = setTimeout(resolve, timeoutMs);
          }),
        ]);
      }
    } finally {
      clearTimeout(timer);
      await this.destroy();
    }
  }

  /** Ends every worker now; pending batches fail with a WorkerError (`closed`). Idempotent. */
  async destroy(): Promise<void> {
    if (!this.#destroyed) {
      this.#destroyed = true;
      this.#closing = true;
      debug('destroying: %d live worker(s), %d queued batch(es)', this.#live.size, this.#queue.length);
      for (const task of this.#queue.splice(0)) task.reject(this.#closedError(task));
    }
    await Promise.all([...this.#live].map((worker) => worker.kill('closed')));
    await this.#memoryWatch?.stop();
    await this.#deadLetter?.close();
    this.#notifyIdle();
  }

  /** `close()`, for `await using pool = new WorkerPool(...)`. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  #assertOpen(): void {
    if (this.#fatal !== undefined) throw this.#fatal;
    if (this.#closing) throw new WorkerError('The worker pool is closed', {}, 'closed', 0);
  }

  #closedError(task: Task): WorkerError {
    return (
      this.#fatal ??
      new WorkerError(
        `Batch ${task.taskId} was abandoned: the worker pool was closed`,
        { batch: task.taskId },
        'closed',
        task.attempts,
      )
    );
  }

  /** How long a worker may take to load the module: ten times `timeoutMs`, at least a minute; unbounded without it. */
  #startLimit(): number | undefined {
    const timeoutMs = this.options.timeoutMs;
    return timeoutMs === undefined ? undefined : Math.max(START_LIMIT_FACTOR * timeoutMs, MIN_START_LIMIT_MS);
  }

  #startError(reason: unknown): WorkerError {
    const failure = reason instanceof WorkerFailure ? reason : undefined;
    // a worker killed at its memory limit or its start limit while it loaded says which
    const why =
      failure?.reason === 'memory'
        ? ` (it passed workerMemoryLimit, ${formatBytes(this.options.workerMemoryLimit ?? 0)}, while loading the module: raise the limit)`
        : failure?.reason === 'timeout'
          ? ` (it had not loaded the module after ${this.#startLimit()} ms, ten times timeoutMs: a top-level await that never settles?)`
          : '';
    return new WorkerError(
      `Workers could not start ${this.options.moduleUrl.href}: ${failure?.message ?? String(reason)}${why}`,
      {},
      failure?.reason === 'memory' || failure?.reason === 'timeout' ? failure.reason : 'start',
      0,
      { cause: failure?.cause ?? reason },
    );
  }

  /** Starts a new worker in `slot`; resolves when it is ready. */
  #spawn(slot: Slot): Promise<void> {
    slot.generation++;
    slot.ready = false;
    const id = `w${slot.index}.${slot.generation}`;
    const o = this.options;
    const worker: PoolWorker =
      o.isolation === 'process'
        ? new ProcessWorker(id)
        : new ThreadWorker(id, o.workerMemoryLimit === undefined ? {} : { memoryLimit: o.workerMemoryLimit });
    slot.worker = worker;
    this.#live.add(worker);
    worker.onExit = (w) => this.#onExit(slot, w);
    const ready = worker.start(this.#init);
    this.#track(worker);
    // with timeoutMs, loading the module is bounded too: a top-level await that never settled hung the run
    const limit = this.#startLimit();
    if (limit !== undefined) {
      const timer = setTimeout(() => {
        debug('worker %s: not ready after %d ms, killing it', id, limit);
        void worker.kill('timeout');
      }, limit);
      timer.unref();
      ready.then(
        () => clearTimeout(timer),
        () => clearTimeout(timer),
      );
    }
    ready.then(
      () => {
        if (slot.worker !== worker || this.#destroyed) return;
        slot.ready = true;
        slot.failedStarts = 0;
        this.#loadedOnce = true;
        debug('worker %s ready (pid %s, thread %s)', id, worker.pid, worker.threadId);
        this.#pump();
      },
      (error: unknown) => {
        if (this.#destroyed || slot.worker !== worker) return;
        // one that died while it started (killed, out of memory) after the module loaded in
        // another: a replacement, up to MAX_FAILED_STARTS in a row
        const reason = error instanceof WorkerFailure ? error.reason : 'start';
        const replaceable = reason !== 'start' && reason !== 'closed' && !this.#closing && this.#loadedOnce;
        if (replaceable && ++slot.failedStarts < MAX_FAILED_STARTS) {
          debug('worker %s died before it was ready (%s): starting another', id, reason);
          this.#spawn(slot).catch(() => {});
          return;
        }
        // a worker that cannot load the module will never succeed: fail the pool
        if (this.#fatal === undefined) {
          this.#fatal = this.#startError(error);
          debug('worker %s failed to start: %s', id, this.#fatal.message);
          for (const task of this.#queue.splice(0)) task.reject(this.#fatal);
          void this.destroy();
        }
      },
    );
    return ready;
  }

  #pump(): void {
    if (this.#destroyed) return;
    for (const slot of this.#slots) {
      if (this.#queue.length === 0) break;
      if (!slot.ready || slot.task !== undefined || slot.worker === undefined) continue;
      const task = this.#queue.shift();
      if (task !== undefined) this.#dispatch(slot, slot.worker, task);
    }
    this.#notifyIdle();
  }

  #dispatch(slot: Slot, worker: PoolWorker, task: Task): void {
    slot.task = task;
    task.attempts++;
    const o = this.options;
    const { payload, transfer } = taskPayload(task.input, o.isolation === 'thread');
    const started = performance.now();
    let timer: NodeJS.Timeout | undefined;
    if (o.timeoutMs !== undefined) {
      // the clock starts now, when a worker starts the batch, not when it was queued
      timer = setTimeout(() => {
        // a thread at its heap limit is slow before it is out of memory: that is the real cause
        const reason = worker.atMemoryLimit() ? 'memory' : 'timeout';
        debug('worker %s: batch %d passed %d ms (%s), killing it', worker.id, task.taskId, o.timeoutMs, reason);
        void worker.kill(reason);
      }, o.timeoutMs);
      timer.unref();
    }
    worker.run(task.taskId, payload, transfer).then(
      (rows) => {
        clearTimeout(timer);
        slot.task = undefined;
        slot.stats.busyMs += performance.now() - started;
        slot.stats.batches++;
        slot.stats.rows += inputRows(task.input);
        task.resolve(rows);
        if (worker.tasks >= o.maxTasksPerWorker && !this.#closing) this.#replace(slot, worker, 'recycle');
        this.#pump();
      },
      (failure: unknown) => {
        clearTimeout(timer);
        slot.task = undefined;
        slot.stats.busyMs += performance.now() - started;
        this.#onTaskFailure(
          slot,
          worker,
          task,
          failure instanceof WorkerFailure ? failure : new WorkerFailure('crash', String(failure), { cause: failure }),
        );
      },
    );
  }

  #onTaskFailure(slot: Slot, worker: PoolWorker, task: Task, failure: WorkerFailure): void {
    if (this.#destroyed) {
      task.reject(this.#closedError(task));
      this.#notifyIdle();
      return;
    }
    slot.stats.failures++;
    debug(
      'worker %s: batch %d attempt %d failed (%s): %s',
      worker.id,
      task.taskId,
      task.attempts,
      failure.reason,
      failure.message,
    );
    const reason: WorkerExitReason =
      failure.reason === 'timeout' || failure.reason === 'memory' || failure.reason === 'error'
        ? failure.reason
        : 'crash';
    // a function that threw answered: its worker is alive and, if allowed, keeps serving
    const keep =
      reason === 'error' &&
      !this.options.replaceOnError &&
      !worker.exited &&
      worker.tasks < this.options.maxTasksPerWorker;
    if (slot.worker === worker && !keep) this.#replace(slot, worker, reason);
    if (task.attempts <= this.options.retries) {
      this.#retries++;
      this.#queue.unshift(task);
      this.#pump();
    } else {
      void this.#giveUp(task, failure, worker.heapUsed);
      // a kept worker is free now: nothing else would hand it the batches queued behind this one
      this.#pump();
    }
  }

  async #giveUp(task: Task, failure: WorkerFailure, heapUsed: number | undefined): Promise<void> {
    // counted as work until its dead letters are written: close() must not close the file under it
    this.#givingUp++;
    try {
      await this.#settleGivenUp(task, failure, heapUsed);
    } finally {
      this.#givingUp--;
      this.#notifyIdle();
    }
  }

  async #settleGivenUp(task: Task, failure: WorkerFailure, heapUsed: number | undefined): Promise<void> {
    const cause = failure.cause ?? failure;
    if (this.#deadLetter === undefined) {
      const message = givenUpMessage(task, failure, this.options, heapUsed);
      task.reject(new WorkerError(message, { batch: task.taskId }, failure.reason, task.attempts, { cause }));
      return;
    }
    try {
      const rows = await deadLetterTask(this.#deadLetter, task, failure);
      this.#deadBatches++;
      this.#deadRows += rows;
      task.resolve([]);
    } catch (error) {
      task.reject(error);
    }
  }

  /** Ends `worker` (recycled or failed) and starts a fresh one in its slot. */
  #replace(slot: Slot, worker: PoolWorker, reason: WorkerExitReason): void {
    if (reason === 'recycle') slot.stats.recycles++;
    else slot.stats.restarts++;
    slot.stats.exits.push({ reason, at: Date.now() });
    if (slot.stats.exits.length > MAX_EXITS) slot.stats.exits.shift();
    debug('worker %s: %s after %d batch(es), replacing it', worker.id, reason, worker.tasks);
    slot.worker = undefined;
    slot.ready = false;
    void worker.kill(reason);
    if (!this.#destroyed) this.#spawn(slot).catch(() => {});
  }

  /** A worker exited. If it was the slot's current worker and idle, nobody else noticed: replace it. */
  #onExit(slot: Slot, worker: PoolWorker): void {
    this.#live.delete(worker);
    this.#untrack.get(worker)?.();
    this.#untrack.delete(worker);
    if (this.#destroyed || slot.worker !== worker || slot.task !== undefined || !slot.ready) return;
    const reason: WorkerExitReason =
      worker.exitReason === 'memory' || worker.exitReason === 'timeout' ? worker.exitReason : 'crash';
    this.#replace(slot, worker, reason);
  }

  #isIdle(): boolean {
    return this.#queue.length === 0 && this.#givingUp === 0 && this.#slots.every((s) => s.task === undefined);
  }

  #notifyIdle(): void {
    if (this.#idleWaiters.length === 0 || !(this.#isIdle() || this.#destroyed)) return;
    for (const resolve of this.#idleWaiters.splice(0)) resolve();
  }
}
brandClass(WorkerPool, 'WorkerPool');

export type { WorkerFailureReason };
