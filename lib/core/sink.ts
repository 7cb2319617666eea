/**
 * The stream adapter every sink shares: a Writable of {@link Batch}es that opens its target
 * lazily, commits it only when the input ends cleanly, and cleans up when destroyed with an
 * error (so nothing half-written stays under a final name).
 */
import { Writable } from 'node:stream';
import { Batch } from './batch.ts';
import type { CheckpointSink, SinkCheckpointDriver, SinkCheckpointHooks } from '../observe/checkpoint.ts';
import { SchemaMismatchError, describeValue, toError, withContext } from './errors.ts';
import { asBatch } from './transform.ts';
import { ensureArrowKernels } from './arrow-load.ts';
import {
  STAGE,
  detachedContext,
  newStageStats,
  type SpillwayStage,
  type StageContext,
  type StageInfo,
  type StageStats,
  capabilities,
  type StageCapabilities,
} from './stage.ts';
import { brandClass } from './brand.ts';
import { CommitPoint } from '../io/commit-point.ts';
import { noteInput } from './negotiate.ts';
import { WorkInFlight } from './work-in-flight.ts';

/** Batches a sink buffers before it pushes back. */
export const SINK_HIGH_WATER_MARK = 2;

/** What a concrete sink provides to {@link BatchSink}. */
export interface SinkSpec<T> {
  /** Stage name, e.g. `toCsv`. */
  name: string;
  /** What the stage can do; defaults: ordered, rows only, checkpointable when it has checkpoint hooks. */
  capabilities?: Partial<StageCapabilities>;
  /**
   * Writes one batch; the returned promise is the backpressure. `context.signal` is aborted when
   * the sink is destroyed during the write: a wait on a caller's stream must end with it.
   */
  write(batch: Batch, context: StageContext, stats: StageStats): void | Promise<void>;
  /**
   * Input ended cleanly: flush, commit, and return the output. A sink that renames its output
   * into a final name hands `point` to the call that renames, which enters it just before (an
   * abort before that point stops the rename; one after it is too late: lib/io/commit-point.ts).
   */
  finish(context: StageContext, stats: StageStats, point: CommitPoint): T | Promise<T>;
  /**
   * The sink is destroyed before finishing: release and remove what is not committed. Called
   * once a write under way has settled, so it never races a write that is still opening files.
   */
  abort?(error: Error | null, context: StageContext): void | Promise<void>;
  /**
   * The sink finished, then was destroyed with an error (the run failed or was aborted after
   * it): nobody will receive `output`; release what it holds (e.g. a spill directory).
   */
  discard?(output: T): void | Promise<void>;
  /** Checkpoint support for `pipeline(..., { checkpoint })`; sinks without it refuse checkpointing. */
  checkpoint?: SinkCheckpointHooks;
  /**
   * True when the sink takes any values as rows (collect, drain). Other sinks write columns by
   * name and refuse a row that is not an object or array (see {@link checkRowObjects}).
   */
  anyValues?: boolean;
}

/**
 * Refuses a batch holding a row that is not an object or array: a `map` that returned `42` for
 * a row made a CSV line of empty fields and a Parquet row of nulls, `'x'` a column named `0`, and
 * a null failed with a TypeError. One `typeof` a row (about a millisecond per million rows).
 */
function checkRowObjects(batch: Batch, stage: string): void {
  const rows = batch.rows as unknown[];
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i];
    if (typeof row === 'object' && row !== null) continue;
    const position = batch.position;
    throw new SchemaMismatchError(
      `Row ${i} of the batch is ${describeValue(row)}, not an object: ${stage} writes rows of named columns (did a map return a value rather than a row?)`,
      { stage, file: position.source, batch: position.index, rowInBatch: i },
    );
  }
}

/** A Writable of {@link Batch}es with an output; the base of every spillway sink. */
export class BatchSink<T> extends Writable implements SpillwayStage, CheckpointSink {
  readonly [STAGE]: StageInfo;
  readonly #spec: SinkSpec<T>;
  #context: StageContext | undefined;
  /** The write under way: a destroy waits for it before the abort. */
  readonly #work = new WorkInFlight();
  #finished = false;
  #discarded = false;
  readonly #commitPoint = new CommitPoint();
  /** The finish under way (settles, never rejects), once `_final` ran. */
  #finishing: Promise<void> | undefined;
  #output: T | undefined;
  #checkpoint: SinkCheckpointDriver | undefined;

  constructor(spec: SinkSpec<T>) {
    super({ objectMode: true, highWaterMark: SINK_HIGH_WATER_MARK });
    this.#spec = spec;
    this[STAGE] = {
      kind: 'sink',
      capabilities: capabilities({ checkpointable: spec.checkpoint !== undefined, ...spec.capabilities }),
      stats: newStageStats(spec.name, 'sink'),
      attach: (context) => {
        this.#context = context;
      },
    };
  }

  /** The sink's output; available once the stream has finished. */
  result(): T {
    if (!this.#finished)
      throw new Error(`${this.#spec.name}: the output is available only after the sink has finished`);
    return this.#output as T;
  }

  /** The sink's checkpoint hooks, when it supports checkpoints. */
  get checkpointHooks(): SinkCheckpointHooks | undefined {
    return this.#spec.checkpoint;
  }

  /** Routes every batch through a checkpoint driver (rows to drop on resume, commits after writes). */
  useCheckpoint(driver: SinkCheckpointDriver): void {
    this.#checkpoint = driver;
  }

  async #writeCheckpointed(batch: Batch, driver: SinkCheckpointDriver, stats: StageStats): Promise<void> {
    const skip = driver.receive(batch);
    const started = performance.now();
    if (skip < batch.numRows) await this.#spec.write(skip > 0 ? dropRows(batch, skip) : batch, this.#ctx(), stats);
    stats.timeMs += performance.now() - started;
    // destroyed meanwhile: a commit now would snapshot files the abort is about to remove
    if (this.destroyed) return;
    await driver.afterWrite(this.#ctx());
  }

  #ctx(): StageContext {
    return this.#work.context((this.#context ??= detachedContext()));
  }

  /** `error` as an Error; a coded one that does not say where it came from names this sink (as a transform's does). */
  #failure(error: unknown): Error {
    return withContext(toError(error), { stage: this[STAGE].stats.name });
  }

  override _write(chunk: unknown, _encoding: BufferEncoding, done: (error?: Error | null) => void): void {
    const callback = (error?: unknown): void => (error === undefined ? done() : done(this.#failure(error)));
    const batch = asBatch(chunk, this[STAGE].stats.name);
    const loading = ensureArrowKernels(batch);
    if (loading) {
      loading.then(
        () => this.#writeBatch(batch, callback),
        (error: unknown) => callback(error),
      );
      return;
    }
    this.#writeBatch(batch, callback);
  }

  #writeBatch(batch: Batch, callback: (error?: unknown) => void): void {
    // destroyed while the Arrow kernels loaded: the abort may already have run
    if (this.destroyed) {
      callback(new Error(`${this.#spec.name}: write after the sink was destroyed`));
      return;
    }
    const stats = this[STAGE].stats;
    stats.batchesIn++;
    stats.rowsIn += batch.numRows;
    noteInput(stats, batch);
    try {
      if (batch.hasRows && this.#spec.anyValues !== true) checkRowObjects(batch, this.#spec.name);
    } catch (error) {
      callback(error);
      return;
    }
    const driver = this.#checkpoint;
    if (driver) {
      this.#work.track(this.#writeCheckpointed(batch, driver, stats)).then(
        () => callback(),
        (error: unknown) => callback(toError(error)),
      );
      return;
    }
    const started = performance.now();
    let result: void | Promise<void>;
    try {
      result = this.#spec.write(batch, this.#ctx(), stats);
    } catch (error) {
      callback(toError(error));
      return;
    }
    if (result === undefined) {
      stats.timeMs += performance.now() - started;
      callback();
      return;
    }
    this.#work.track(result).then(
      () => {
        stats.timeMs += performance.now() - started;
        callback();
      },
      (error: unknown) => callback(toError(error)),
    );
  }

  override _final(callback: (error?: Error | null) => void): void {
    const stats = this[STAGE].stats;
    const started = performance.now();
    this.#finishing = Promise.resolve()
      .then(() => this.#checkpoint?.beforeFinish())
      .then(() => this.#spec.finish(this.#ctx(), stats, this.#commitPoint))
      .then(
        (output) => {
          stats.timeMs += performance.now() - started;
          this.#output = output;
          this.#finished = true;
          callback();
        },
        (error: unknown) => callback(this.#failure(error)),
      );
  }

  /**
   * For a run that failed after this sink finished (pipeline() calls it): nobody will receive
   * the output, so the sink releases it (`discard` of its spec: a spill's directory goes now, not
   * at exit). Idempotent; nothing before the sink finished.
   */
  async discardOutput(): Promise<void> {
    const discard = this.#spec.discard;
    if (!this.#finished || this.#discarded || discard === undefined) return;
    this.#discarded = true;
    await discard(this.#output as T);
  }

  /**
   * True once the sink's finish began renaming its output into place (lib/io/commit-point.ts):
   * an abort from then on cannot take the output back, and the run ends as a success.
   */
  get committed(): boolean {
    return this.#finished || this.#commitPoint.committed;
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    const abort = this.#spec.abort;
    // refused: a rename still to come in a running finish will not happen; false: one already did,
    // and the finish completes the output (removing its temporary files would race it)
    const uncommitted = this.#commitPoint.refuse();
    if (!uncommitted && !this.#finished && this.#finishing !== undefined) {
      // destroyed directly (a pipeline lets such a sink finish): the output goes to nobody once whole
      void this.#finishing.then(() => this.discardOutput().catch(() => undefined)).then(() => callback(error));
      return;
    }
    if (this.#finished || !abort || !uncommitted) {
      callback(error);
      return;
    }
    // a write under way may still open files: it ends (its waits on a caller's stream through
    // the signal) before the abort removes what the sink made
    this.#work
      .stop(error ?? new Error(`${this.#spec.name} was destroyed`))
      .then(() => abort(error, this.#ctx()))
      .then(
        () => callback(error),
        (abortError: unknown) =>
          callback(error ? new AggregateError([error, toError(abortError)], error.message) : toError(abortError)),
      );
  }
}
brandClass(BatchSink, 'BatchSink');

/** The batch without its first `count` rows (rows a resumed sink already holds). */
function dropRows(batch: Batch, count: number): Batch {
  if (batch.hasArrow && !batch.hasRows) return Batch.fromArrow(batch.arrow.slice(count), batch.position);
  return batch.withRows(batch.rows.slice(count));
}
