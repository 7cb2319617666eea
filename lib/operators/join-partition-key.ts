/**
 * Which spill partition a joined row belongs to (hash-join.ts): both sides of a grace hash join
 * must send equal keys to the same partition, rows and Arrow batches alike.
 */
import type { RecordBatch } from 'apache-arrow';
import type { Row } from '../core/batch.ts';
import { valueReader } from '../formats/arrow/to-rows.ts';
import { keyEncoder } from './key-encoding.ts';
import { hashCanonical } from './key-dictionary.ts';
import { canonicalKey } from './key-trie.ts';

/**
 * A row's partition key: the canonical form of its one key value (key-trie.ts `canonicalKey`: a
 * number stays a number), or the encoded string of several. Equal keys under SQL equality give
 * equal forms, without a string built per row. Partitions hold the rows alone: a partition's
 * join finds them in a JoinTable by their key columns, as the in-memory join does.
 */
export type PartKey = unknown;

/** The {@link PartKey} function of `columns`. */
export function partKey(columns: readonly string[]): (row: Row) => PartKey {
  if (columns.length > 1) return keyEncoder(columns);
  const name = columns[0]!;
  return (row) => canonicalKey((row as Record<string, unknown>)[name]);
}

/** The partition (0..fanout-1) of a non-null {@link PartKey} under hash `seed`. */
export function partitionOf(key: PartKey, seed: number, fanout: number): number {
  return (hashCanonical(key, seed) >>> 0) % fanout;
}

/** The partition of a one-column key whose (non-null) value is `value`, as {@link partKey} gives its row's. */
export function valuePartition(value: unknown, seed: number, fanout: number): number {
  return partitionOf(canonicalKey(value), seed, fanout);
}

/**
 * The partition of each row of `batch` by its value in key column `c` (as rows would hold it, so
 * each row goes where its row object would); a null key gets `nulls`: 0 by default (a partitioned
 * join's probe of partition 0 outputs such a left row unmatched (left, anti) or drops it (inner,
 * semi)), -1 to leave the row out.
 */
export function keyPartitions(batch: RecordBatch, c: number, fanout: number, nulls = 0): Int32Array {
  const read = valueReader(batch.data.children[c]!, {}, batch.schema.fields[c]!.name);
  const which = new Int32Array(batch.numRows);
  for (let i = 0; i < which.length; i++) {
    const v = read(i);
    which[i] = v !== null && v !== undefined ? valuePartition(v, 0, fanout) : nulls;
  }
  return which;
}
