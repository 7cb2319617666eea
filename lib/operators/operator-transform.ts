/**
 * The one stream adapter of the operators that hold state across batches (sort, topK, groupBy,
 * distinct, join). BatchTransform holds
 * what a stage pushes until its step is done, which is right for row-local stages but would hold
 * a whole aggregation's output in memory at the end of the input; here the operator's `emit`
 * pushes at once and waits for the reader when the readable side is full, so output streams with
 * backpressure. `dispose` runs on success, failure and destroy (abort), exactly once, so spill
 * files never outlive the stage. On a destroy it runs once the step under way has settled (its
 * signal aborted, its wait for the reader rejected): a step still writing a spill partition would
 * otherwise open files after the dispose removed the directory (a groupBy aborted while merging
 * left 15 descriptors open on deleted files, test/e2e/abort-random.test.ts).
 */
import { Transform, type TransformCallback } from 'node:stream';
import { RequiredColumns, type RequiredColumn } from './required-columns.ts';
import type { RecordBatch, Schema } from 'apache-arrow';
import { Batch, type Row } from '../core/batch.ts';
import { AbortError, toError, withContext } from '../core/errors.ts';
import { sniffedAsArrow } from './sniffed-input.ts';
import { asBatch, TRANSFORM_HIGH_WATER_MARK } from '../core/transform.ts';
import { loadArrowKernels } from '../core/arrow-load.ts';
import { noteInput } from '../core/negotiate.ts';
import { WorkInFlight } from '../core/work-in-flight.ts';
import {
  STAGE,
  capabilities,
  detachedContext,
  newStageStats,
  type BatchForm,
  type SpillwayStage,
  type StageContext,
  type StageInfo,
  type StageStats,
} from '../core/stage.ts';

/** Pushes output rows (objects, or an Arrow batch) downstream; resolves when there is room for more. */
export type EmitRows = (rows: Row[] | RecordBatch) => Promise<void>;

/** What an operator provides to {@link OperatorTransform}. */
export interface OperatorSpec {
  /** Stage name, e.g. `groupBy` or `sort`. */
  name: string;
  /**
   * Forms it consumes without converting (format negotiation: a source that offers a choice,
   * as `fromCsv` does, then produces Arrow for it). Default: rows only.
   */
  accepts?: readonly BatchForm[];
  /** The only input columns it reads, when known (projection pushdown; see StageCapabilities.reads). */
  reads?: readonly string[];
  /** Columns the input must have (keys, aggregated columns): a missing one is an error (required-columns.ts). */
  requires?: readonly RequiredColumn[];
  /** Takes one input batch (may emit, e.g. a join's probe output). */
  consume(batch: Batch, emit: EmitRows, context: StageContext, stats: StageStats): Promise<void>;
  /** The input ended: emit everything that is left. */
  finish(emit: EmitRows, context: StageContext, stats: StageStats): Promise<void>;
  /** Releases memory and removes spill files; called once, on end, error or destroy. */
  dispose(): Promise<void>;
  /**
   * The output of no rows, with its columns, for an input whose Arrow columns were those of
   * `input` (no rows; undefined when only rows came): emitted when the operator output nothing,
   * so a sink still learns the columns (see BatchTransform's columns-only batch).
   */
  empty?(input: RecordBatch | undefined): RecordBatch | undefined;
}

/** A Transform of batches for operators that hold state across batches and emit at the end. */
export class OperatorTransform extends Transform implements SpillwayStage {
  readonly [STAGE]: StageInfo;
  readonly #spec: OperatorSpec;
  #context: StageContext | undefined;
  /** The step under way: a destroy waits for it before the dispose. */
  readonly #work = new WorkInFlight();
  #waiting: { resolve: () => void; reject: (error: Error) => void } | undefined;
  #disposed: Promise<void> | undefined;
  #batches = 0;
  #rowStart = 0;
  #paused = 0;
  /** The columns of the first Arrow input batch (see OperatorSpec.empty). */
  #inputColumns: Schema | undefined;
  readonly #required: RequiredColumns | undefined;

  constructor(spec: OperatorSpec) {
    super({ objectMode: true, highWaterMark: TRANSFORM_HIGH_WATER_MARK });
    this.#spec = spec;
    this.#required = spec.requires?.length ? new RequiredColumns(spec.name, spec.requires) : undefined;
    const stats = newStageStats(spec.name, 'transform');
    this[STAGE] = {
      kind: 'transform',
      // an operator emits only at the end (or in key order), never interleaved with its input
      capabilities: capabilities({
        ...(spec.accepts ? { accepts: spec.accepts } : {}),
        ...(spec.reads ? { reads: spec.reads } : {}),
        notResumable: 'it holds rows across batches (a table, sorted runs), which a checkpoint does not keep',
      }),
      stats,
      attach: (context) => {
        this.#context = context;
      },
    };
  }

  #ctx(): StageContext {
    return this.#work.context((this.#context ??= detachedContext()));
  }

  /** Pushes rows as one batch; waits for the reader when the readable buffer is full. */
  readonly #emit: EmitRows = async (rows) => {
    const n = Array.isArray(rows) ? rows.length : rows.numRows;
    if (n === 0) return;
    const stats = this[STAGE].stats;
    const position = { source: stats.name, index: this.#batches++, rowStart: this.#rowStart };
    const batch = Array.isArray(rows) ? new Batch(rows, position) : Batch.fromArrow(rows, position);
    this.#rowStart += n;
    stats.batchesOut++;
    stats.rowsOut += n;
    if (this.destroyed) throw new AbortError(`${stats.name} was destroyed`);
    if (!this.push(batch)) {
      const started = performance.now();
      await new Promise<void>((resolve, reject) => {
        this.#waiting = { resolve, reject };
      });
      this.#paused += performance.now() - started;
    }
    const signal = this.#ctx().signal;
    if (signal.aborted) throw new AbortError(`${stats.name} was aborted`, { cause: signal.reason });
  };

  override _read(size: number): void {
    const waiting = this.#waiting;
    this.#waiting = undefined;
    waiting?.resolve();
    super._read(size);
  }

  override _transform(chunk: unknown, _encoding: BufferEncoding, callback: TransformCallback): void {
    const stats = this[STAGE].stats;
    const batch = asBatch(chunk, stats.name);
    noteInput(stats, batch);
    this.#inputColumns ??= batch.schema;
    stats.batchesIn++;
    stats.rowsIn += batch.numRows;
    // operators work on Arrow buffers: the conversions load before the first batch
    this.#run(
      async () => {
        await loadArrowKernels();
        this.#required?.note(batch);
        // rows a source typed (a sniffed CSV) go in as Arrow, so the output keeps the types
        const input = this.#spec.accepts?.includes('arrow') ? sniffedAsArrow(batch) : batch;
        await this.#spec.consume(input, this.#emit, this.#ctx(), stats);
      },
      callback,
      false,
    );
  }

  override _flush(callback: TransformCallback): void {
    this.#run(
      async () => {
        await loadArrowKernels();
        const stats = this[STAGE].stats;
        this.#required?.finish();
        await this.#spec.finish(this.#emit, this.#ctx(), stats);
        const empty = stats.batchesOut === 0 ? await this.#empty() : undefined;
        if (empty) this.push(Batch.fromArrow(empty, { source: stats.name, index: 0, rowStart: 0 }));
      },
      callback,
      true,
    );
  }

  /** The operator's output of no rows (OperatorSpec.empty), from its input's columns when it had Arrow ones. */
  async #empty(): Promise<RecordBatch | undefined> {
    const schema = this.#inputColumns;
    if (!this.#spec.empty || !schema) return undefined;
    const { emptyRecordBatch } = await import('../formats/arrow/record-batch.ts');
    let input: RecordBatch;
    try {
      input = emptyRecordBatch(schema.fields);
    } catch {
      return undefined; // a type apache-arrow builds no column of (a view type): no columns-only batch
    }
    return this.#spec.empty(input);
  }

  #run(work: () => Promise<void>, callback: TransformCallback, last: boolean): void {
    const stats = this[STAGE].stats;
    const started = performance.now();
    this.#paused = 0;
    const done = (error?: unknown): void => {
      stats.timeMs += performance.now() - started - this.#paused;
      if (error !== undefined) {
        // a coded error that does not say where it came from names this operator
        void this.#dispose().finally(() => callback(withContext(toError(error), { stage: stats.name })));
        return;
      }
      if (last)
        void this.#dispose().then(
          () => callback(),
          (e: unknown) => callback(toError(e)),
        );
      else callback();
    };
    let result: Promise<void>;
    try {
      result = work();
    } catch (error) {
      done(error);
      return;
    }
    void this.#work.track(
      result.then(
        () => done(),
        (error: unknown) => done(error ?? new Error(`${stats.name} failed`)),
      ),
    );
  }

  #dispose(): Promise<void> {
    this.#disposed ??= this.#spec.dispose();
    return this.#disposed;
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    const waiting = this.#waiting;
    this.#waiting = undefined;
    waiting?.reject(error ?? new AbortError(`${this[STAGE].stats.name} was destroyed`));
    this.#work
      .stop(error ?? new AbortError(`${this[STAGE].stats.name} was destroyed`))
      .then(() => this.#dispose())
      .then(
        () => callback(error),
        (e: unknown) => callback(error ?? toError(e)),
      );
  }
}
