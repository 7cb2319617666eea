/**
 * The k-way merge of sorted runs: a heap of cursors (one current batch per run, one more read
 * ahead for runs on disk), output rows gathered from the cursors' batches into batches of a
 * given size. Stable: rows that compare equal come from the earlier run first, so merging runs
 * of consecutive input keeps input order.
 */
import type { RecordBatch, Schema } from 'apache-arrow';
import { castRecordBatch, schemasEqual } from '../formats/arrow/convert.ts';
import { gatherRows } from './gather.ts';
import type { KeySet, SortOrdering } from './sort-keys.ts';
import type { SpilledRun } from './spill-runs.ts';

/** Yields a run's next batch, or undefined at its end. */
export type RunSource = () => Promise<RecordBatch | undefined>;

/** One run being merged: its current batch, key set and row. */
interface Cursor {
  run: number;
  batch: RecordBatch;
  keys: KeySet;
  row: number;
  n: number;
  /** Index of `batch` among the current output batch's sources, or -1. */
  src: number;
  next: RunSource;
}

/** A min-heap of cursors under an ordering, ties to the earlier run. */
class CursorHeap {
  readonly items: Cursor[] = [];
  readonly #compare: SortOrdering['compare'];

  constructor(ordering: SortOrdering) {
    this.#compare = ordering.compare;
  }

  #less(a: Cursor, b: Cursor): boolean {
    const c = this.#compare(a.keys, a.row, b.keys, b.row);
    return c < 0 || (c === 0 && a.run < b.run);
  }

  siftDown(at: number): void {
    const heap = this.items;
    const size = heap.length;
    const item = heap[at]!;
    for (;;) {
      const l = 2 * at + 1;
      if (l >= size) break;
      const r = l + 1;
      const child = r < size && this.#less(heap[r]!, heap[l]!) ? r : l;
      if (!this.#less(heap[child]!, item)) break;
      heap[at] = heap[child]!;
      at = child;
    }
    heap[at] = item;
  }

  heapify(): void {
    for (let i = (this.items.length >> 1) - 1; i >= 0; i--) this.siftDown(i);
  }

  /** Drops the top cursor (its run is exhausted). */
  pop(): void {
    const last = this.items.pop()!;
    if (this.items.length > 0) {
      this.items[0] = last;
      this.siftDown(0);
    }
  }
}

/** The next non-empty batch of `next`, cast to `schema`, or undefined. */
async function nextBatch(next: RunSource, schema: Schema): Promise<RecordBatch | undefined> {
  let batch = await next();
  while (batch !== undefined && batch.numRows === 0) batch = await next();
  return batch === undefined || schemasEqual(batch.schema, schema) ? batch : castRecordBatch(batch, schema);
}

/**
 * Merges sorted `sources` (earlier sources win ties) into batches of `outSize(first batch)` rows;
 * `checkAbort` runs before each output batch.
 */
export async function* mergeRuns(
  sources: readonly RunSource[],
  schema: Schema,
  ordering: SortOrdering,
  outSize: (first: RecordBatch) => number,
  checkAbort: () => void,
): AsyncGenerator<RecordBatch> {
  if (sources.length === 1) {
    // one run is already in order: its batches pass through, with no heap and no gather
    for (let batch = await nextBatch(sources[0]!, schema); batch; batch = await nextBatch(sources[0]!, schema)) {
      checkAbort();
      yield batch;
    }
    return;
  }
  ordering.bind(schema);
  const heap = new CursorHeap(ordering);
  for (const [run, next] of sources.entries()) {
    const batch = await nextBatch(next, schema);
    if (batch) heap.items.push({ run, batch, keys: ordering.keySet([batch]), row: 0, n: batch.numRows, src: -1, next });
  }
  heap.heapify();
  if (heap.items.length === 0) return;
  const size = outSize(heap.items[0]!.batch);
  let from = new Uint32Array(size);
  let rows = new Uint32Array(size);
  let batches: RecordBatch[] = [];
  let count = 0;
  const emit = (): RecordBatch => {
    const out = gatherRows(schema, batches, {
      from: from.subarray(0, count),
      rows: rows.subarray(0, count),
      length: count,
    });
    for (const c of heap.items) c.src = -1;
    batches = [];
    count = 0;
    from = new Uint32Array(size);
    rows = new Uint32Array(size);
    return out;
  };
  while (heap.items.length > 0) {
    const top = heap.items[0]!;
    if (top.src < 0) {
      top.src = batches.length;
      batches.push(top.batch);
    }
    from[count] = top.src;
    rows[count] = top.row;
    count++;
    if (++top.row < top.n) heap.siftDown(0);
    else {
      const batch = await nextBatch(top.next, schema);
      if (batch === undefined) heap.pop();
      else {
        Object.assign(top, { batch, keys: ordering.keySet([batch]), row: 0, n: batch.numRows, src: -1 });
        heap.siftDown(0);
      }
    }
    if (count === size) {
      checkAbort();
      yield emit();
    }
  }
  if (count > 0) yield emit();
}

/** Reads a spilled run batch by batch, one batch read ahead; closes its file once exhausted. */
export function spilledSource(run: SpilledRun): RunSource {
  let index = 0;
  let ahead: Promise<RecordBatch> | undefined;
  return async () => {
    if (index >= run.numBatches) {
      await run.release();
      return undefined;
    }
    const current = ahead ?? run.read(index);
    index++;
    ahead = index < run.numBatches ? run.read(index) : undefined;
    ahead?.catch(() => {});
    return current;
  };
}
