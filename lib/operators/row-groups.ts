/**
 * Rows on their way to the spill partitions of a hash aggregation that does not aggregate: once
 * a table it wrote out held nearly one group per row (high-cardinality keys, as GROUP BY symbol,
 * ts), finding each row's group in the table only to spill it again cost a dictionary insert per
 * key value and a group index probe for nothing. Here each row is a group of its own: its key
 * values are kept as they are, its aggregate states are those of a one-row group (the same
 * aggregate columns, with group id = row), and it goes to the partition of its key's hash, the
 * one a {@link GroupTable} would give it, so that partitions merge the same groups either way.
 */
import { estimateValueBytes, type Row } from '../core/batch.ts';
import type { MemoryMeter } from './aggregates.ts';
import { aggColumn, rowsInput, type AggColumn } from './agg-columns.ts';
import { MIN_VALUES, type GroupChunk, type TablePlan } from './group-table.ts';
import { combineHashes, hashKey } from './key-dictionary.ts';

/** `values[g]` for each of `ids`, by a loop (the spill's hot path: no closure per value). */
function pick<T>(values: readonly T[], ids: readonly number[]): T[] {
  const out = new Array<T>(ids.length);
  for (let j = 0; j < ids.length; j++) out[j] = values[ids[j]!]!;
  return out;
}

/** Rows sampled for the byte estimate of each appended batch. */
const SAMPLE = 16;

/** Rows as one-row groups, appended batch by batch, for {@link ColumnarAggregator}'s flush. */
export class RowGroups {
  readonly #plan: TablePlan;
  readonly #keys: unknown[][];
  readonly #columns: AggColumn[];
  readonly #rows: Row[] = [];
  readonly #meter: MemoryMeter = { bytes: 0 };
  #ids = new Int32Array(0);
  /** Rows (groups) held. */
  size = 0;
  /** Estimated bytes held. */
  bytes = 0;

  constructor(plan: TablePlan) {
    this.#plan = plan;
    this.#keys = plan.keys.map(() => []);
    this.#columns = plan.aggregates.map((agg) => aggColumn(agg, plan.inputTypes));
  }

  /** Appends rows `0..n-1` (read through `rowAt`; a kept row from `keepAt`, or the row itself). */
  append(n: number, rowAt: (i: number) => Row, keepAt?: (i: number) => Row): void {
    const from = this.size;
    const size = from + n;
    if (this.#ids.length < n) this.#ids = new Int32Array(Math.max(n, 2048));
    const ids = this.#ids;
    for (let i = 0; i < n; i++) ids[i] = from + i;
    const getters = this.#plan.keys;
    for (let c = 0; c < getters.length; c++) {
      const get = getters[c]!;
      const values = this.#keys[c]!;
      for (let i = 0; i < n; i++) values.push(get(rowAt(i)));
    }
    let slot = 0;
    const input = rowsInput(rowAt);
    for (const column of this.#columns) {
      column.reserve(size);
      column.addBatch(ids, n, input, this.#meter);
      slot += column.slotBytes;
    }
    if (this.#plan.keepRows) {
      const keep = keepAt ?? rowAt;
      for (let i = 0; i < n; i++) this.#rows.push(keep(i));
    }
    this.size = size;
    this.bytes += n * (slot + this.#sampleBytes(from, size));
  }

  /** Estimated bytes of one row's key values (and kept row), sampled from rows `from..to-1`. */
  #sampleBytes(from: number, to: number): number {
    const step = Math.max(1, Math.floor((to - from) / SAMPLE));
    let bytes = 0;
    let sampled = 0;
    for (let g = from; g < to; g += step, sampled++) {
      for (const values of this.#keys) bytes += 8 + estimateValueBytes(values[g], 1);
      if (this.#plan.keepRows) bytes += 32 + estimateValueBytes(this.#rows[g], 0);
    }
    return sampled === 0 ? 0 : bytes / sampled;
  }

  /** The partition of every row, as {@link GroupTable.partitions} hashes the same key values. */
  partitions(seed: number, fanout: number): Uint16Array {
    const out = new Uint16Array(this.size);
    const keys = this.#keys;
    for (let g = 0; g < this.size; g++) {
      let h = hashKey(keys[0]![g], seed);
      for (let c = 1; c < keys.length; c++) h = combineHashes(h, hashKey(keys[c]![g], seed));
      out[g] = (h >>> 0) % fanout;
    }
    return out;
  }

  /** The rows `ids` as a chunk (key values, exported one-row states, kept rows). */
  chunk(ids: readonly number[]): GroupChunk {
    // each row is a group of its own: its values in the chunk as they are, column after column
    const keyValues = this.#keys.flatMap((values) => pick(values, ids));
    while (keyValues.length < MIN_VALUES) keyValues.push(null);
    const keyCodes = this.#keys.map((_, c) => {
      const out = new Int32Array(ids.length);
      for (let j = 0; j < ids.length; j++) out[j] = c * ids.length + j;
      return out;
    });
    const states = this.#columns.map((column) => column.exportStates(ids));
    const rows = this.#plan.keepRows ? pick(this.#rows, ids) : undefined;
    return { keyValues, keyText: new Uint8Array(0), keyTextLengths: new Uint8Array(0), keyCodes, states, rows };
  }
}
