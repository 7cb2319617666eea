/**
 * The stream adapter every source shares. A source's format code is an async iterable of
 * batches; this Readable pulls one batch per `_read`, so a source reads only as fast as the
 * pipeline consumes (ordinary backpressure), and waits while the memory governor says pause.
 */
import { Readable } from 'node:stream';
import type { Batch, Row } from './batch.ts';
import type { CheckpointSource, SourceCheckpointHooks } from '../observe/checkpoint.ts';
import { toError } from './errors.ts';
import {
  STAGE,
  detachedContext,
  newStageStats,
  type SourceProgress,
  type SpillwayStage,
  type StageContext,
  type StageInfo,
  type StageStats,
  capabilities,
  type StageCapabilities,
  type FormOffer,
} from './stage.ts';
import { brandClass } from './brand.ts';
import { ensureArrowKernels } from './arrow-load.ts';

/** Batches a source keeps buffered ahead of the next stage. Small: batches are large. */
export const SOURCE_HIGH_WATER_MARK = 2;

/** What a concrete source provides to {@link BatchSource}. */
export interface SourceSpec<R extends Row> {
  /** Stage name, e.g. `fromCsv`. */
  name: string;
  /** What the stage can do; defaults: ordered, rows only, checkpointable when it has checkpoint hooks. */
  capabilities?: Partial<StageCapabilities>;
  /** Opens the source (files are opened here, not at construction) and yields its batches. */
  open(context: StageContext, stats: StageStats): AsyncIterable<Batch<R>>;
  /** Progress so far; totals when the source knows them. */
  progress?(): SourceProgress;
  /** Resume support for `pipeline(..., { checkpoint })`; sources without it refuse checkpointing. */
  checkpoint?: SourceCheckpointHooks;
  /** The batch forms the source can produce, when it can produce more than one (format negotiation). */
  offer?: FormOffer;
}

/** A Readable of {@link Batch}es driven by an async iterable; the base of every spillway source. */
export class BatchSource<R extends Row = Row> extends Readable implements SpillwayStage, CheckpointSource {
  readonly [STAGE]: StageInfo;
  readonly #spec: SourceSpec<R>;
  #context: StageContext | undefined;
  #iterator: AsyncIterator<Batch<R>> | undefined;
  #reading = false;
  #observer: ((batch: Batch) => void) | undefined;
  /** Aborted when this stream is destroyed, so the source's pending reads end and its files close. */
  readonly #closer = new AbortController();

  constructor(spec: SourceSpec<R>) {
    super({ objectMode: true, highWaterMark: SOURCE_HIGH_WATER_MARK });
    this.#spec = spec;
    const stats = newStageStats(spec.name, 'source');
    this[STAGE] = {
      kind: 'source',
      capabilities: capabilities({ checkpointable: spec.checkpoint !== undefined, ...spec.capabilities }),
      offer: spec.offer,
      stats,
      attach: (context) => {
        this.#context = context;
      },
    };
  }

  /** Rows and bytes read so far, with totals when known. */
  progress(): SourceProgress {
    const stats = this[STAGE].stats;
    return this.#spec.progress?.() ?? { rows: stats.rowsOut, bytes: 0 };
  }

  /** The source's checkpoint hooks, when it supports checkpoints. */
  get checkpointHooks(): SourceCheckpointHooks | undefined {
    return this.#spec.checkpoint;
  }

  /** Calls `listener` with each batch this source emits (the checkpointer notes their positions). */
  observeBatches(listener: (batch: Batch) => void): void {
    this.#observer = listener;
  }

  override _read(): void {
    if (this.#reading) return;
    this.#reading = true;
    this.#pull().catch((error: unknown) => {
      this.#reading = false;
      this.destroy(toError(error));
    });
  }

  async #pull(): Promise<void> {
    const context = (this.#context ??= detachedContext());
    const governor = context.governor;
    const polled = governor?.poll?.();
    if (polled) await polled;
    if (governor?.paused) await governor.waitForRelief(context.signal);
    if (this.destroyed) return;
    if (context.stopRequested) {
      await this.#iterator?.return?.();
      this.#reading = false;
      this.push(null);
      return;
    }
    this.#iterator ??= this.#spec.open(this.#sourceContext(context), this[STAGE].stats)[Symbol.asyncIterator]();
    const started = performance.now();
    const result = await this.#iterator.next();
    // a batch holding Arrow (e.g. a user's RecordBatch) needs the conversions loaded before use
    const loading = result.done ? undefined : ensureArrowKernels(result.value);
    if (loading) await loading;
    const stats = this[STAGE].stats;
    stats.timeMs += performance.now() - started;
    // clear the flag before push(): push may call _read again at once
    this.#reading = false;
    if (this.destroyed) return;
    if (result.done) {
      this.push(null);
      return;
    }
    const batch = result.value;
    stats.batchesOut++;
    stats.rowsOut += batch.numRows;
    governor?.noteRows(batch.numRows);
    this.#observer?.(batch);
    this.push(batch);
  }

  #sourceContext(context: StageContext): StageContext {
    const signal = AbortSignal.any([context.signal, this.#closer.signal]);
    return {
      signal,
      governor: context.governor,
      requestStop: () => context.requestStop(),
      get stopRequested() {
        return context.stopRequested;
      },
      inputRead: context.inputRead,
    };
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.#closer.abort(error ?? new Error('source closed'));
    const iterator = this.#iterator;
    this.#iterator = undefined;
    if (!iterator?.return) {
      callback(error);
      return;
    }
    // closes the source's files: the iterable's finally blocks run on return()
    Promise.resolve(iterator.return()).then(
      () => callback(error),
      (closeError: unknown) => callback(error ?? toError(closeError)),
    );
  }
}
brandClass(BatchSource, 'BatchSource');
