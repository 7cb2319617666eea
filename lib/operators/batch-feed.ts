/**
 * Feeds a batch to a hash aggregation without building an object per row when the batch holds
 * only Arrow: rows are read through one reusable flyweight view (lib/row-view.ts), and a row is
 * copied out only when the operator keeps it (a new distinct row). Rows already materialised are
 * used as they are.
 */
import type { Batch } from '../core/batch.ts';
import { RowViewer, isViewable } from '../core/row-view.ts';
import type { RecordBatch } from 'apache-arrow';
import type { Row } from '../core/batch.ts';

/** What a feed adds rows to: a hash aggregation (columnar-aggregate.ts). */
export interface RowSink {
  add(rows: readonly Row[]): Promise<void>;
  addEach(n: number, rowAt: (i: number) => Row, keepAt?: (i: number) => Row): Promise<void>;
  /** Folds an Arrow batch in, keys read from its columns, rows through `rowAt` (when the sink can). */
  addArrow?(batch: RecordBatch, rowAt: (i: number) => Row, keepAt?: (i: number) => Row): Promise<void>;
}

/** Feeds batches to one aggregator, reusing one viewer while the batches' columns stay the same. */
export class BatchFeed {
  #viewer: RowViewer | undefined;
  readonly #keepsRows: boolean;

  /** @param keepsRows true when groups hold the row itself (distinct): new groups get a copy */
  constructor(keepsRows: boolean) {
    this.#keepsRows = keepsRows;
  }

  /** Adds the rows of `batch` to `aggregator`. */
  feed(aggregator: RowSink, batch: Batch): Promise<void> {
    if (batch.hasRows || !batch.hasArrow || !isViewable(batch.arrow)) return aggregator.add(batch.rows);
    const arrow = batch.arrow;
    let viewer = this.#viewer;
    if (viewer?.fits(arrow)) viewer.bind(arrow);
    else viewer = this.#viewer = new RowViewer(arrow);
    const v = viewer;
    const keep = this.#keepsRows ? (i: number) => v.materialize(i) : undefined;
    if (aggregator.addArrow) return aggregator.addArrow(arrow, (i) => v.at(i), keep);
    return aggregator.addEach(arrow.numRows, (i) => v.at(i), keep);
  }
}
