/**
 * The batch of no rows a CSV file holding only its header yields, so that a sink still writes
 * its columns (a CSV header, an Arrow or Parquet schema), as DuckDB's COPY of such a file does:
 * the names as text columns, the type DuckDB gives columns it saw no value of. Loaded only for
 * such a file (it brings apache-arrow).
 */
import { Field, Utf8 } from 'apache-arrow';
import { Batch, type Row } from '../../../core/batch.ts';
import { emptyRecordBatch } from '../../arrow/record-batch.ts';

/** A batch of no rows with `names` as text columns (names alone when they repeat: Arrow needs them distinct). */
export function headerOnlyBatch(names: readonly string[], source: string): Batch<Row> {
  const position = { source, index: 0, rowStart: 0 };
  if (new Set(names).size !== names.length) return new Batch<Row>([], position, 0, names);
  return Batch.fromArrow(emptyRecordBatch(names.map((name) => new Field(name, new Utf8(), true))), position);
}
