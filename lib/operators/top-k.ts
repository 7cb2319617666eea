/**
 * Top-k without a full sort: a bounded heap of the best `k` rows seen so far, its root the worst
 * of them, so each input row costs one comparison with the root (and a sift when it gets in).
 * Heap entries point into the input batches they came from; those batches are kept while an
 * entry points into them, and the kept rows are gathered into one batch (compaction) when too
 * many batches are kept. Ties keep input order: an earlier row beats a later equal one, as in a
 * stable sort.
 */
import type { RecordBatch, Schema } from 'apache-arrow';
import { castRecordBatch, schemasEqual, unifySchemas } from '../formats/arrow/convert.ts';
import { gatherRows } from './gather.ts';
import type { KeySet, SortOrdering } from './sort-keys.ts';

interface Held {
  batch: RecordBatch;
  keys: KeySet;
  refs: number;
}

/** The best `k` rows of a stream of batches under an ordering. */
export class TopK {
  readonly k: number;
  readonly #ordering: SortOrdering;
  #schema: Schema | undefined;
  /** Heap of entries; entry e is row `row[e]` of `held[batch[e]]`, input position `seq[e]`. */
  #heap: number[] = [];
  readonly #batch: Int32Array;
  readonly #row: Int32Array;
  readonly #seq: Float64Array;
  #held: (Held | undefined)[] = [];
  #live = 0;
  #seen = 0;
  /** Compactions so far (for stats). */
  compactions = 0;

  constructor(k: number, ordering: SortOrdering) {
    this.k = k;
    this.#ordering = ordering;
    this.#batch = new Int32Array(k);
    this.#row = new Int32Array(k);
    this.#seq = new Float64Array(k);
  }

  /** Rows seen. */
  get rowsSeen(): number {
    return this.#seen;
  }

  /** True when entry `a` ranks after entry `b` (worse). */
  #worse(a: number, b: number): boolean {
    const ha = this.#held[this.#batch[a]!]!;
    const hb = this.#held[this.#batch[b]!]!;
    const c = this.#ordering.compare(ha.keys, this.#row[a]!, hb.keys, this.#row[b]!);
    return c > 0 || (c === 0 && this.#seq[a]! > this.#seq[b]!);
  }

  #siftUp(at: number): void {
    const heap = this.#heap;
    const e = heap[at]!;
    while (at > 0) {
      const parent = (at - 1) >> 1;
      if (!this.#worse(e, heap[parent]!)) break;
      heap[at] = heap[parent]!;
      at = parent;
    }
    heap[at] = e;
  }

  #siftDown(at: number): void {
    const heap = this.#heap;
    const size = heap.length;
    const e = heap[at]!;
    for (;;) {
      const l = 2 * at + 1;
      if (l >= size) break;
      const r = l + 1;
      const child = r < size && this.#worse(heap[r]!, heap[l]!) ? r : l;
      if (!this.#worse(heap[child]!, e)) break;
      heap[at] = heap[child]!;
      at = child;
    }
    heap[at] = e;
  }

  #release(slot: number): void {
    const held = this.#held[slot]!;
    if (--held.refs === 0) {
      this.#held[slot] = undefined;
      this.#live--;
    }
  }

  /** Considers every row of `batch`. */
  add(input: RecordBatch): void {
    if (input.numRows === 0 || this.k === 0) {
      this.#seen += input.numRows;
      return;
    }
    const schema = this.#schema === undefined ? input.schema : unifySchemas(this.#schema, input.schema);
    if (schema !== this.#schema) {
      this.#schema = schema;
      this.#ordering.bind(schema);
      // key kinds may change with the schema (Int32 -> Int64): rebuild what is held
      for (const held of this.#held) {
        if (!held) continue;
        held.batch = castRecordBatch(held.batch, schema);
        held.keys = this.#ordering.keySet([held.batch]);
      }
    }
    const batch = schemasEqual(input.schema, schema) ? input : castRecordBatch(input, schema);
    const keys = this.#ordering.keySet([batch]);
    const slot = this.#held.length;
    const held: Held = { batch, keys, refs: 0 };
    this.#held.push(held);
    this.#live++;
    const compare = this.#ordering.compare;
    const heap = this.#heap;
    for (let r = 0; r < batch.numRows; r++) {
      const seq = this.#seen++;
      if (heap.length < this.k) {
        const e = heap.length;
        this.#batch[e] = slot;
        this.#row[e] = r;
        this.#seq[e] = seq;
        held.refs++;
        heap.push(e);
        this.#siftUp(heap.length - 1);
        continue;
      }
      const root = heap[0]!;
      const rootHeld = this.#held[this.#batch[root]!]!;
      // strictly better than the worst kept row (an equal later row loses the tie)
      if (compare(keys, r, rootHeld.keys, this.#row[root]!) >= 0) continue;
      held.refs++; // before the release: the root may point into this same batch
      this.#release(this.#batch[root]!);
      this.#batch[root] = slot;
      this.#row[root] = r;
      this.#seq[root] = seq;
      this.#siftDown(0);
    }
    if (held.refs === 0) {
      this.#held[slot] = undefined;
      this.#live--;
    }
    if (this.#live > 32) this.#compact();
  }

  /** Gathers the kept rows into one batch and drops the batches they came from. */
  #compact(): void {
    const heap = this.#heap;
    const batch = this.#gather(heap);
    this.#held = [{ batch, keys: this.#ordering.keySet([batch]), refs: heap.length }];
    this.#live = 1;
    heap.forEach((e, k) => {
      this.#batch[e] = 0;
      this.#row[e] = k;
    });
    this.compactions++;
  }

  /** The kept rows, best first, in batches of `batchSize` rows. */
  *finish(batchSize: number): Generator<RecordBatch> {
    const heap = [...this.#heap];
    if (heap.length === 0) return;
    heap.sort((a, b) => (this.#worse(a, b) ? 1 : this.#worse(b, a) ? -1 : 0));
    for (let at = 0; at < heap.length; at += batchSize) {
      yield this.#gather(heap.slice(at, at + batchSize));
    }
  }

  /** The rows of heap entries `entries`, in that order, gathered from the batches holding them. */
  #gather(entries: readonly number[]): RecordBatch {
    const slots = new Map<number, number>();
    const sources: RecordBatch[] = [];
    const from = new Uint32Array(entries.length);
    const rows = new Uint32Array(entries.length);
    entries.forEach((e, k) => {
      const slot = this.#batch[e]!;
      let s = slots.get(slot);
      if (s === undefined) {
        s = sources.length;
        slots.set(slot, s);
        sources.push(this.#held[slot]!.batch);
      }
      from[k] = s;
      rows[k] = this.#row[e]!;
    });
    return gatherRows(this.#schema!, sources, { from, rows, length: entries.length });
  }
}
