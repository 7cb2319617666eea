/**
 * Checkpoint/resume for fromArrow, as an adapter around a reader: the checkpoint hooks, and on
 * resume a reader that reads the record batches again and skips the rows an earlier run
 * delivered (Arrow IPC has no row offsets to seek to). The readers know nothing of it.
 */
import { resolve as resolvePath } from 'node:path';
import type { RecordBatch } from 'apache-arrow';
import type { StageContext, StageStats } from '../../../core/stage.ts';
import type { CheckpointJson, SourceCheckpointHooks } from '../../../observe/checkpoint.ts';
import type { ArrowPlan } from './options.ts';
import type { ArrowCounters, ArrowReader } from './reader.ts';

/** Where a resumed run starts: rows an earlier run read, and the index of its next batch. */
export interface ArrowStart {
  rows: number;
  index: number;
}

/** The checkpoint side of a fromArrow source; {@link ArrowResume.wrap} wraps a reader when resuming. */
export class ArrowResume {
  /** Where a resumed run starts, when resuming. */
  from: ArrowStart | undefined;
  readonly hooks: SourceCheckpointHooks;

  constructor(plan: ArrowPlan, counters: ArrowCounters) {
    const { file, stage } = plan;
    this.hooks = {
      identity: {
        source: 'fromArrow',
        file: file === undefined ? null : resolvePath(file),
        options: JSON.parse(JSON.stringify(plan.given)) as CheckpointJson,
      },
      file,
      refuse: file === undefined ? `${stage} reads a stream, not a file, and cannot go back to a position` : undefined,
      state: (position, rowsThrough) => ({ rows: rowsThrough, index: position.index + 1 }),
      resume: (state) => {
        const { rows, index } = state as { rows: number; index: number };
        this.from = { rows, index };
        counters.rowsRead = rows;
      },
    };
  }

  /** Index of the first batch of this run. */
  get firstIndex(): number {
    return this.from?.index ?? 0;
  }

  /** The reader to use: `reader` itself, or the skipping adapter when resuming. */
  wrap(reader: ArrowReader): ArrowReader {
    return this.from === undefined ? reader : new SkippingReader(reader, this.from.rows);
  }
}

/** A reader that drops the record batches holding the first `rows` rows (read by an earlier run). */
class SkippingReader implements ArrowReader {
  readonly #inner: ArrowReader;
  readonly #rows: number;

  constructor(inner: ArrowReader, rows: number) {
    this.#inner = inner;
    this.#rows = rows;
  }

  async *read(context: StageContext, stats: StageStats): AsyncGenerator<RecordBatch> {
    // a checkpoint ends on a batch boundary, so skipped rows are whole batches
    let skip = this.#rows;
    for await (const part of this.#inner.read(context, stats)) {
      if (skip >= part.numRows) {
        skip -= part.numRows;
        continue;
      }
      yield part;
    }
  }
}
