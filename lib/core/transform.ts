/**
 * The stream adapter every transform stage shares: a Transform of {@link Batch}es that counts
 * rows and time, and hands each batch to the stage's own function.
 */
import { Transform, type TransformCallback } from 'node:stream';
import { Batch, type Row } from './batch.ts';
import { toError, withContext } from './errors.ts';
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
import { noteInput } from './negotiate.ts';
import { isArrowRecordBatch } from './arrow-brand.ts';
import { ensureArrowKernels } from './arrow-load.ts';

/** Batches a transform buffers on each side. */
export const TRANSFORM_HIGH_WATER_MARK = 2;

/** Emits a batch downstream; empty batches are dropped. */
export type PushBatch = (batch: Batch) => void;

/** What a concrete transform provides to {@link BatchTransform}. */
export interface TransformSpec {
  /** Stage name, e.g. `map`. */
  name: string;
  /** What the stage can do; defaults: ordered, rows only, checkpointable when it has checkpoint hooks. */
  capabilities?: Partial<StageCapabilities>;
  /** Handles one batch, pushing zero or more batches. */
  transform(batch: Batch, push: PushBatch, context: StageContext, stats: StageStats): void | Promise<void>;
  /** Emits what is left when the input ends. */
  flush?(push: PushBatch, context: StageContext, stats: StageStats): void | Promise<void>;
}

/** A Transform of {@link Batch}es; the base of every spillway transform stage. */
export class BatchTransform extends Transform implements SpillwayStage {
  readonly [STAGE]: StageInfo;
  readonly #spec: TransformSpec;
  #context: StageContext | undefined;
  readonly #push: PushBatch;
  #out: Batch[] = [];
  /**
   * A batch of no rows with Arrow columns (a filter that kept nothing), pushed at the end when no
   * other batch went out: the sink still learns the columns, as DuckDB writes a query's schema
   * when it has no rows (toParquet refused to guess one, and a CSV got no header).
   */
  #columnsOnly: Batch | undefined;

  constructor(spec: TransformSpec) {
    super({ objectMode: true, highWaterMark: TRANSFORM_HIGH_WATER_MARK });
    this.#spec = spec;
    const stats = newStageStats(spec.name, 'transform');
    this[STAGE] = {
      kind: 'transform',
      capabilities: capabilities(spec.capabilities),
      stats,
      attach: (context) => {
        this.#context = context;
      },
    };
    // batches are held until the stage's own work is timed, then pushed: push() runs the
    // downstream stages synchronously, and their time is theirs
    this.#push = (batch) => {
      if (batch.numRows === 0) {
        if (stats.batchesOut === 0 && batch.hasArrow) this.#columnsOnly ??= batch;
        return;
      }
      // it holds its source's columns: not kept past the first batch with rows
      this.#columnsOnly = undefined;
      stats.batchesOut++;
      stats.rowsOut += batch.numRows;
      this.#out.push(batch);
    };
  }

  override _transform(chunk: unknown, _encoding: BufferEncoding, callback: TransformCallback): void {
    const stats = this[STAGE].stats;
    const batch = asBatch(chunk, stats.name);
    const loading = ensureArrowKernels(batch);
    if (loading) {
      loading.then(
        () => this.#transformBatch(batch, callback),
        (error: unknown) => callback(toError(error)),
      );
      return;
    }
    this.#transformBatch(batch, callback);
  }

  #transformBatch(batch: Batch, callback: TransformCallback): void {
    const stats = this[STAGE].stats;
    stats.batchesIn++;
    stats.rowsIn += batch.numRows;
    noteInput(stats, batch);
    this.#run(() => this.#spec.transform(batch, this.#push, this.#ctx(), stats), callback);
  }

  override _flush(callback: TransformCallback): void {
    const flush = this.#spec.flush;
    const end: TransformCallback = (error, data) => {
      const columnsOnly = this.#columnsOnly;
      this.#columnsOnly = undefined;
      if (!error && columnsOnly && this[STAGE].stats.batchesOut === 0 && holdsColumns(columnsOnly))
        this.push(columnsOnly);
      callback(error, data);
    };
    if (!flush) {
      end();
      return;
    }
    this.#run(() => flush(this.#push, this.#ctx(), this[STAGE].stats), end);
  }

  #ctx(): StageContext {
    return (this.#context ??= detachedContext());
  }

  #run(work: () => void | Promise<void>, callback: TransformCallback): void {
    const stats = this[STAGE].stats;
    const started = performance.now();
    const done = (error?: unknown): void => {
      stats.timeMs += performance.now() - started;
      const out = this.#out;
      this.#out = [];
      if (error !== undefined) {
        // a coded error that does not say where it came from names this stage
        callback(withContext(toError(error), { stage: stats.name }));
        return;
      }
      for (const batch of out) this.push(batch);
      callback();
    };
    let result: void | Promise<void>;
    try {
      result = work();
    } catch (error) {
      done(error);
      return;
    }
    if (result === undefined) done();
    else
      result.then(
        () => done(),
        (error: unknown) => done(error ?? new Error('transform failed')),
      );
  }
}
brandClass(BatchTransform, 'BatchTransform');

/** True once `batch` (of no rows) holds its columns as a RecordBatch; false when they cannot be selected (view types). */
function holdsColumns(batch: Batch): boolean {
  try {
    return batch.arrow.numRows === 0;
  } catch {
    return false;
  }
}

let looseBatches = 0;

/**
 * Accepts what a foreign stream may emit and makes it a {@link Batch}: a Batch as it is, an
 * apache-arrow RecordBatch as an Arrow batch (converted to rows only if a stage asks), an array
 * as a batch of rows, anything else as a one-row batch (LooseRows, before it, groups such rows).
 */
export function asBatch(chunk: unknown, source: string): Batch {
  if (chunk instanceof Batch) return chunk;
  if (isArrowRecordBatch(chunk)) return Batch.fromArrow(chunk, { source, index: looseBatches++, rowStart: 0 });
  const rows = (Array.isArray(chunk) ? chunk : [chunk]) as Row[];
  return new Batch(rows, { source, index: looseBatches++, rowStart: 0 });
}
