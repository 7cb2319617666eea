/**
 * A partitioned join's spill files by side and form, and what moves rows between them and the
 * table (hash-join.ts): rows written by key hash, right Arrow batches split by their key column,
 * and a partition's right chunks read back as they were written (rows, then Arrow batches).
 */
import type { RecordBatch } from 'apache-arrow';
import { Batch, estimateRowsBytes, type Row } from '../core/batch.ts';
import { hasNullKey } from './key-encoding.ts';
import { keyPartitions, partitionOf, type PartKey } from './join-partition-key.ts';
import type { HashPartitions } from './hash-partitions.ts';
import type { ArrowRowPartitions } from './arrow-row-partitions.ts';
import type { JoinTable } from './join-table.ts';

/** Bytes a partition's buffer is charged for a row beyond its values (its record and slot). */
const ENTRY_BYTES = 120;

/** A partitioned join's spill files: rows by partition, and Arrow batches by partition when the input came so. */
export interface JoinPartitions {
  rightParts: HashPartitions;
  leftParts: HashPartitions;
  rightBatches?: ArrowRowPartitions | undefined;
  leftBatches?: ArrowRowPartitions | undefined;
}

/** One side of a join as its rows go to partitions: its key columns, its partition key, and whether a row with a null key is kept. */
export interface PartitionSide {
  keys: readonly string[];
  partKey: (row: Row) => PartKey;
  /** Kept rows with a null key go to partition 0 (right and full joins output them unmatched). */
  keepNull: boolean;
}

/** The rows of a right Arrow batch, as {@link Batch.rows} makes them. */
export function rowsOf(batch: RecordBatch): Row[] {
  return Batch.fromArrow(batch, { source: 'join.right', index: 0, rowStart: 0 }).rows;
}

/**
 * Writes `rows` to `parts` by key hash under `seed` (`each`: estimated bytes a row); returns, not
 * written, the rows of the partitions marked in `resident` (joined at once against the table).
 */
export async function writeByKey(
  rows: readonly Row[],
  side: PartitionSide,
  parts: HashPartitions,
  seed: number,
  each: number,
  resident?: Uint8Array,
): Promise<Row[]> {
  const here: Row[] = [];
  for (const row of rows) {
    let p = 0;
    if (!hasNullKey(row, side.keys)) p = partitionOf(side.partKey(row), seed, parts.fanout);
    else if (!side.keepNull) continue;
    if (resident?.[p] === 1) here.push(row);
    else {
      const pending = parts.add(p, row, each);
      if (pending) await pending;
    }
  }
  return here;
}

/** The estimated bytes a row of `rows` takes in a partition's buffer (the `each` of {@link writeByKey}). */
export function rowBytesInPartition(rows: readonly Row[]): number {
  return rows.length === 0 ? 0 : estimateRowsBytes(rows) / rows.length + ENTRY_BYTES;
}

/** Writes the rows of `table` to `parts` as {@link writeByKey} does, 4,096 at a time, then empties it. */
export async function writeTable(
  table: JoinTable,
  side: PartitionSide,
  parts: HashPartitions,
  seed: number,
): Promise<void> {
  for (let start = 0; start < table.length; start += 4096) {
    const held: Row[] = [];
    for (let i = start; i < Math.min(table.length, start + 4096); i++) held.push(table.row(i));
    await writeByKey(held, side, parts, seed, rowBytesInPartition(held));
  }
  table.clear();
}

/**
 * The partition of each row of a right Arrow batch by its one key column (a kept null key to
 * partition 0, another left out: -1), as {@link writeByKey} sends its rows; undefined for a key of
 * several columns, or a batch without the key column or with it twice.
 */
export function arrowPartitions(batch: RecordBatch, side: PartitionSide, fanout: number): Int32Array | undefined {
  if (side.keys.length !== 1) return undefined;
  const names = batch.schema.fields.map((f) => f.name);
  const c = names.indexOf(side.keys[0]!);
  if (c === -1 || names.lastIndexOf(side.keys[0]!) !== c) return undefined;
  return keyPartitions(batch, c, fanout, side.keepNull ? 0 : -1);
}

/** Partition `p`'s right chunks: its rows, then its Arrow batches. */
export async function* rightChunksOf(
  rows: HashPartitions,
  batches: ArrowRowPartitions | undefined,
  p: number,
): AsyncGenerator<Row[] | RecordBatch> {
  for await (const chunk of rows.read(p)) yield chunk as Row[];
  if (batches) yield* batches.read(p);
}
