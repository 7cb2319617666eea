/**
 * `parallel(module, options)`: runs a user module over every batch in a supervised pool of worker
 * threads or child processes (see lib/pool/worker-pool.ts). One task is one batch; results keep
 * their input batch's position and, by default, its order.
 *
 * How it sits in a stream: each incoming batch is handed to the reorder window
 * (`mapBatchesInPool`), and the write callback fires only once the window has taken it, so a full
 * window holds the upstream back. Results are pushed while a write or the flush is pending (so the
 * Transform's own readable-side backpressure applies), otherwise held until the next one: never
 * more than the window.
 */
import type { TransformCallback } from 'node:stream';
import type { Batch, Row } from '../lib/core/batch.ts';
import { WorkerError, toError } from '../lib/core/errors.ts';
import { BatchTransform, asBatch } from '../lib/core/transform.ts';
import { STAGE, detachedContext, logger, type StageContext } from '../lib/core/stage.ts';
import { expectOptions, optionKeys, expectString } from '../lib/core/validate.ts';
import type { WorkerPool, PoolStats } from '../lib/workers/pool/worker-pool.ts';
import { resolvePoolOptions } from '../lib/workers/pool/options.ts';
import { mapBatchesInPool } from '../lib/workers/pool/reorder.ts';
import type { ArrowInput, BatchInput } from '../lib/workers/pool/backend.ts';
import type { ParallelOptions } from '../lib/workers/pool/options.ts';
import type { BullmqBackend } from '../lib/workers/distributed/bullmq-backend.ts';
import { resolveBullmqOptions } from '../lib/workers/distributed/backend-options.ts';
import { isBullmqBackend } from '../lib/workers/distributed/options.ts';
import type { ParallelBackendOption } from '../lib/workers/distributed/options.ts';
import { lazyImport } from '../lib/core/lazy-import.ts';
import { hasArrowKernels } from '../lib/core/arrow-kernels.ts';
import { loadArrowKernels } from '../lib/core/arrow-load.ts';

// the worker pool and the BullMQ backend load with the first batch, not with `import 'spillway'`
const poolModule = lazyImport(() => import('../lib/workers/pool/worker-pool.ts'));
const bullmqModule = lazyImport(() => import('../lib/workers/distributed/bullmq-backend.ts'));

// Arrow batches are encoded with apache-arrow, loaded with the first one (not with `import 'spillway'`)
const arrowModule = lazyImport(() => import('apache-arrow'));

const debug = logger('parallel');

/** Options of {@link parallel}: the pool's options and a stage name. */
export interface ParallelStageOptions extends ParallelOptions {
  /** Name used in stats and errors (default `parallel`). */
  name?: string;
  /**
   * Where batches run: the local pool (default, `{ type: 'local' }`), or `{ type: 'bullmq',
   * connection, queue }`: a BullMQ queue on Redis served by `spillway worker` processes on any
   * machine (see lib/distributed/).
   */
  backend?: ParallelBackendOption;
}

interface ParallelTask {
  id: number;
  rows: BatchInput;
  batch: Batch;
}

/** Hands batches from the writable side to the reorder loop; `put` resolves once the loop took it. */
class Handoff {
  #items: { task: ParallelTask; taken: () => void }[] = [];
  #wake: (() => void) | undefined;
  #ended = false;

  put(task: ParallelTask): Promise<void> {
    return new Promise((taken) => {
      this.#items.push({ task, taken });
      this.#signal();
    });
  }

  end(): void {
    this.#ended = true;
    this.#signal();
  }

  #signal(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  async *tasks(): AsyncGenerator<ParallelTask> {
    for (;;) {
      const item = this.#items.shift();
      if (item !== undefined) {
        item.taken();
        yield item.task;
        continue;
      }
      if (this.#ended) return;
      await new Promise<void>((resolve) => (this.#wake = resolve));
    }
  }
}

/** What crosses to the worker: an Arrow batch as IPC bytes (never converted to rows here), else rows. */
function taskInput(batch: Batch): BatchInput {
  if (!batch.hasArrow || batch.hasRows) return batch.rows;
  const { Table, tableToIPC } = arrowModule.loaded!;
  const input: ArrowInput = {
    numRows: batch.numRows,
    encode: () => tableToIPC(new Table(batch.arrow), 'stream'),
    rows: () => batch.rows,
  };
  return input;
}

/** What runs the batches: made with the first batch, so the pool's modules load then (not with `import 'spillway'`). */
interface RunnerPlan {
  /** The runner's validated options (made again, the same, by its constructor). */
  options: { ordered: boolean; window: number };
  /** What stats.details show before the runner exists. */
  details: Record<string, string | number | boolean>;
  bullmq: boolean;
  make(): Promise<WorkerPool | BullmqBackend>;
}

/** Counters of a runner not made yet: no batch has come. */
function noStats(): PoolStats {
  const totals = { workers: 0, batches: 0, rows: 0, failures: 0, restarts: 0, recycles: 0, retries: 0 };
  return {
    workers: [],
    totals: { ...totals, deadLetteredBatches: 0, deadLetteredRows: 0, busyMs: 0, rowsPerSec: 0, queued: 0, running: 0 },
  };
}

/** The parallel stage's stream: a {@link BatchTransform} whose work happens in a worker pool. */
class ParallelTransform extends BatchTransform {
  readonly #plan: RunnerPlan;
  #pool: WorkerPool | BullmqBackend | undefined;
  readonly #handoff = new Handoff();
  #context: StageContext | undefined;
  #loop: Promise<void> | undefined;
  #held: Batch[] = [];
  #pending = 0;
  #failure: Error | undefined;
  /** The source of each batch in the pool, by its input: a failure names its own file (a dataset's batch indices restart per file). */
  readonly #sources = new Map<BatchInput, string | undefined>();

  constructor(name: string, plan: RunnerPlan) {
    // Arrow crosses as IPC bytes and becomes rows on the worker: the main thread builds no row object
    super({
      name,
      transform: () => undefined,
      capabilities: { ordered: plan.options.ordered, accepts: ['rows', 'arrow'] },
    });
    this.#plan = plan;
    const info = this[STAGE];
    const attach = info.attach;
    info.attach = (context) => {
      attach(context);
      this.#context = context;
    };
    Object.assign(info.stats.details, plan.details);
  }

  /** The pool's counters now. */
  poolStats(): PoolStats {
    return this.#pool?.stats() ?? noStats();
  }

  override _transform(chunk: unknown, _encoding: BufferEncoding, callback: TransformCallback): void {
    if (this.#failure !== undefined) {
      callback(this.#failure);
      return;
    }
    const batch = asBatch(chunk, this[STAGE].stats.name);
    const arrowNeeded = batch.hasArrow && (arrowModule.loaded === undefined || !hasArrowKernels());
    if (arrowNeeded || this.#pool === undefined) {
      Promise.all([
        arrowNeeded ? Promise.all([arrowModule.load(), loadArrowKernels()]) : undefined,
        this.#runner(),
      ]).then(
        () => this.#take(batch, callback),
        (error: unknown) => callback(toError(error)),
      );
      return;
    }
    this.#take(batch, callback);
  }

  /** Makes the runner once; its details replace the ones shown before. */
  async #runner(): Promise<WorkerPool | BullmqBackend> {
    if (this.#pool !== undefined) return this.#pool;
    const pool = await this.#plan.make();
    if (this.#pool !== undefined) return this.#pool;
    this.#pool = pool;
    if (this.#plan.bullmq) Object.assign(this[STAGE].stats.details, (pool as BullmqBackend).details());
    return pool;
  }

  /** Hands `batch` to the pool once the window has room. */
  #take(batch: Batch, callback: TransformCallback): void {
    const stats = this[STAGE].stats;
    stats.batchesIn++;
    stats.rowsIn += batch.numRows;
    this.#start();
    this.#pending++;
    this.#pushHeld();
    const rows = taskInput(batch);
    this.#sources.set(rows, batch.position.source);
    void this.#handoff.put({ id: batch.position.index, rows, batch }).then(() => {
      this.#pending--;
      callback();
    });
  }

  override _flush(callback: TransformCallback): void {
    this.#pending++;
    // the held results go first: the results still to come are pushed as they arrive (held ones
    // pushed only after the loop went out behind them: batches 10, 20, 0)
    this.#pushHeld();
    this.#handoff.end();
    const loop = this.#loop ?? Promise.resolve();
    void loop
      .then(async () => {
        this.#pushHeld();
        await this.#pool?.close();
        this.#updateStats();
      })
      .then(
        () => callback(this.#failure),
        (error: unknown) => callback(toError(error)),
      );
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.#handoff.end();
    debug('%s: destroyed (%s), ending its workers', this[STAGE].stats.name, error?.message ?? 'no error');
    (this.#pool?.destroy() ?? Promise.resolve()).then(
      () => {
        this.#updateStats();
        callback(error);
      },
      (destroyError: unknown) => callback(error ?? toError(destroyError)),
    );
  }

  #start(): void {
    if (this.#loop !== undefined) return;
    const context = (this.#context ??= detachedContext());
    const governor = context.governor;
    if (governor?.trackChild !== undefined && !this.#plan.bullmq)
      (this.#pool as WorkerPool).trackChildren((pid) => governor.trackChild!(pid));
    this.#loop = this.#run(this.#pool!, context);
  }

  async #run(pool: WorkerPool | BullmqBackend, context: StageContext): Promise<void> {
    const { ordered, window } = pool.options;
    const runner = {
      run: (id: number, rows: BatchInput): Promise<unknown[]> =>
        pool.run(id, rows).then(
          (out) => {
            this.#sources.delete(rows);
            return out;
          },
          (error: unknown) => {
            const failed = this.#withContext(toError(error), this.#sources.get(rows));
            this.#sources.delete(rows);
            throw failed;
          },
        ),
    };
    try {
      for await (const result of mapBatchesInPool(runner, this.#handoff.tasks(), {
        ordered,
        window,
        signal: context.signal,
      })) {
        // the output batch keeps its input's position: resume and error messages point at the source
        const out = result.input.batch.withRows(result.rows as Row[]);
        this.#updateStats();
        if (out.numRows === 0) continue;
        const stats = this[STAGE].stats;
        stats.batchesOut++;
        stats.rowsOut += out.numRows;
        if (this.#pending > 0) {
          this.#pushHeld();
          this.push(out);
        } else this.#held.push(out);
      }
    } catch (error) {
      if (this.destroyed) return;
      this.#failure ??= this.#withContext(toError(error), undefined);
      this.destroy(this.#failure);
    }
  }

  #pushHeld(): void {
    for (const batch of this.#held.splice(0)) this.push(batch);
  }

  #withContext(error: Error, source: string | undefined): Error {
    if (error instanceof WorkerError) {
      // the pool knows the batch index; the stage adds where it is and which source
      error.context.stage ??= this[STAGE].stats.name;
      if (source !== undefined) error.context.file ??= source;
    }
    return error;
  }

  #updateStats(): void {
    const stats = this[STAGE].stats;
    const pool = this.#pool;
    if (pool === undefined) return;
    const { workers, totals } = pool.stats();
    stats.workers = workers.map((w) => ({ ...w, stage: stats.name }));
    stats.timeMs = totals.busyMs;
    stats.rowsDeadLettered = totals.deadLetteredRows;
    stats.rowsSkipped = totals.deadLetteredRows;
    Object.assign(stats.details, {
      failures: totals.failures,
      retries: totals.retries,
      restarts: totals.restarts,
      recycles: totals.recycles,
      deadLetteredBatches: totals.deadLetteredBatches,
    });
    if (this.#plan.bullmq) Object.assign(stats.details, (pool as BullmqBackend).details());
  }
}

/** Every option of ParallelStageOptions, for strict validation. */
const KNOWN_PARALLEL_STAGE_OPTIONS = optionKeys<ParallelStageOptions>({
  name: true,
  backend: true,
  workers: true,
  isolation: true,
  ordered: true,
  timeoutMs: true,
  retries: true,
  maxTasksPerWorker: true,
  workerMemoryLimit: true,
  kind: true,
  export: true,
  window: true,
  onError: true,
  memoryCheckIntervalMs: true,
  replaceOnError: true,
});
/**
 * Runs `module`'s function over every batch in a pool of worker threads (default) or child
 * processes. The module's `default` export (or `options.export`) is a row function (sync or
 * async; returning `undefined` drops the row) or, with `kind: 'batch'`, a batch function. TypeScript
 * modules work in workers as in the main thread. Arrow batches travel as IPC bytes transferred to
 * the thread, and become rows only there.
 *
 * A worker that throws, crashes, passes `timeoutMs` (counted from when it starts the batch) or its
 * memory limit is replaced and the batch retried up to `retries` times; then the pipeline fails
 * with a WorkerError naming the batch, or with `onError: { deadLetter }` the batch's rows go to
 * that file and the run goes on. Failure or abort of the pipeline ends every worker. Per-worker
 * counters land in the pipeline's `stats.workers`.
 *
 * With `backend: { type: 'bullmq', connection, queue }` the batches go instead through a BullMQ
 * queue on Redis to `spillway worker` processes on any machine, with the same contract (see
 * lib/distributed/bullmq-backend.ts); `workers`, `isolation` and the other pool options are then
 * the workers' own flags.
 *
 * @example
 * ```ts
 * const { stats } = await pipeline(
 *   fromIterable(grid),
 *   parallel(new URL('./backtest.ts', import.meta.url), { workers: 'auto', timeoutMs: 30_000, retries: 2 }),
 *   collect(),
 * );
 * console.log(stats.workers);
 * ```
 */
export function parallel(module: URL | string, options?: ParallelStageOptions): BatchTransform {
  const { name, backend, ...poolOptions } = expectOptions(options, 'options', KNOWN_PARALLEL_STAGE_OPTIONS);
  const stageName = name === undefined ? 'parallel' : expectString(name, 'options.name');
  // validates every option now, before any worker starts or connection opens; both wait for the first batch
  if (isBullmqBackend(backend)) {
    const o = resolveBullmqOptions(module, poolOptions, backend);
    return new ParallelTransform(stageName, {
      options: o,
      details: { backend: 'bullmq', queue: o.queue.queue, redis: o.redis, ordered: o.ordered, window: o.window },
      bullmq: true,
      make: async () => new (await bullmqModule.load()).BullmqBackend(module, poolOptions, backend),
    });
  }
  const o = resolvePoolOptions(module, poolOptions);
  return new ParallelTransform(stageName, {
    options: o,
    details: { workers: o.workers, isolation: o.isolation, ordered: o.ordered, window: o.window },
    bullmq: false,
    make: async () => new (await poolModule.load()).WorkerPool(module, poolOptions),
  });
}
