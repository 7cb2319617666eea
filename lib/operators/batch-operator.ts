/**
 * The stream behind operators that hold their input and emit at the end (sort, top-k): a
 * {@link BatchTransform} whose flush streams the output with backpressure (a plain transform's
 * flush holds every batch it emits until it returns, which for a sort is the whole dataset), and
 * whose destroy releases what the operator holds (temporary files) on failure and abort.
 */
import type { TransformCallback } from 'node:stream';
import type { RecordBatch } from 'apache-arrow';
import { Batch } from '../core/batch.ts';
import { AbortError, toError } from '../core/errors.ts';
import { BatchTransform } from '../core/transform.ts';
import { STAGE, detachedContext, type StageContext, type StageStats } from '../core/stage.ts';

/** What an operator provides to {@link BatchOperator}. */
export interface BatchOperatorSpec {
  /** Stage name, e.g. `sort`. */
  name: string;
  /** Takes one input batch (awaited: that is the backpressure). */
  consume(batch: Batch, context: StageContext, stats: StageStats): void | Promise<void>;
  /** The output, produced after the input ended. */
  produce(context: StageContext, stats: StageStats): AsyncIterable<RecordBatch>;
  /** Releases everything (called once: after the output, or on destroy). */
  dispose(): Promise<void>;
}

/** A transform stage that consumes all input, then streams its output with backpressure. */
export class BatchOperator extends BatchTransform {
  readonly #spec: BatchOperatorSpec;
  #context: StageContext | undefined;
  #wake: (() => void) | undefined;
  #destroyed = false;
  #disposed: Promise<void> | undefined;

  constructor(spec: BatchOperatorSpec) {
    super({ name: spec.name, transform: (batch, _push, context, stats) => spec.consume(batch, context, stats) });
    this.#spec = spec;
    const info = this[STAGE];
    const attach = info.attach;
    (info as { attach: (context: StageContext) => void }).attach = (context) => {
      this.#context = context;
      attach(context);
    };
  }

  #dispose(): Promise<void> {
    this.#disposed ??= this.#spec.dispose();
    return this.#disposed;
  }

  override _read(size: number): void {
    super._read(size);
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  override _flush(callback: TransformCallback): void {
    this.#stream().then(
      () => callback(),
      (error: unknown) => callback(toError(error)),
    );
  }

  async #stream(): Promise<void> {
    const context = (this.#context ??= detachedContext());
    const stats = this[STAGE].stats;
    const name = stats.name;
    let index = 0;
    let rowStart = 0;
    try {
      let started = performance.now();
      for await (const recordBatch of this.#spec.produce(context, stats)) {
        stats.timeMs += performance.now() - started;
        if (this.#destroyed) break;
        if (context.signal.aborted) throw new AbortError(`${name} was aborted`, { cause: context.signal.reason });
        if (recordBatch.numRows > 0) {
          const batch = Batch.fromArrow(recordBatch, { source: name, index: index++, rowStart });
          rowStart += recordBatch.numRows;
          stats.batchesOut++;
          stats.rowsOut += recordBatch.numRows;
          if (!this.push(batch) && !this.#destroyed) await new Promise<void>((resolve) => (this.#wake = resolve));
        }
        started = performance.now();
      }
    } finally {
      await this.#dispose();
    }
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.#destroyed = true;
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
    this.#dispose().then(
      () => callback(error),
      (failure: unknown) => callback(error ?? toError(failure)),
    );
  }
}
