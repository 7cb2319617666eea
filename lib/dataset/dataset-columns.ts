/**
 * The per-file work of a dataset source on each batch: the constant partition and file-name
 * columns added to a file's rows, the exact `where` filter, and the projection back to the
 * columns asked for. Rows or Arrow batches, whichever the file's reader made.
 */
import { Field, Schema, Struct, makeData, Float64, Int64, Null, DateDay, Utf8, type DataType } from 'apache-arrow';
import { Batch, type Row } from '../core/batch.ts';
import { buildColumn } from '../formats/arrow/convert.ts';
import { isBatchSelectable, selectRows } from '../formats/arrow/select.ts';
import { makeRecordBatchFast, selectColumns } from '../formats/arrow/record-batch.ts';
import { RowViewer, isViewable } from '../core/row-view.ts';
import type { DatasetFile } from './expand.ts';
import type { HivePartitions, HiveType, HiveValue } from './hive.ts';
import { TRUE, type RowTest } from './predicate.ts';

/** The Arrow type of a partition column. */
function hiveArrowType(type: HiveType): DataType {
  switch (type) {
    case 'int':
      return new Int64();
    case 'double':
      return new Float64();
    case 'date':
      return new DateDay(); // a calendar day, as DuckDB types a hive date (its rows are Dates at UTC midnight)
    case 'string':
      return new Utf8();
  }
}

/** A partition or file-name column of one file: name, value and Arrow type. */
export interface ExtraColumn {
  readonly name: string;
  readonly value: HiveValue;
  readonly type: DataType;
}

/** The partition and file-name columns of `file`. */
export function extraColumns(
  file: DatasetFile,
  partitions: HivePartitions | undefined,
  fileColumn: string | undefined,
): ExtraColumn[] {
  const out: ExtraColumn[] = [];
  const values = partitions?.values.get(file.path);
  for (const key of partitions?.keys ?? [])
    out.push({ name: key, value: values?.[key] ?? null, type: hiveArrowType(partitions!.types[key]!) });
  if (fileColumn) out.push({ name: fileColumn, value: file.path, type: new Utf8() });
  return out;
}

/** Adds constant columns (replacing a file column of the same name). */
export function addColumns(batch: Batch<Row>, extra: readonly ExtraColumn[]): Batch<Row> {
  if (extra.length === 0) return batch;
  if (batch.hasArrow && !batch.hasRows) {
    const rb = batch.arrow;
    const names = new Set(extra.map((e) => e.name));
    const keep = rb.schema.fields.map((f, i) => [f, i] as const).filter(([f]) => !names.has(f.name));
    const fields = [...keep.map(([f]) => f), ...extra.map((e) => new Field(e.name, e.type, true))];
    const children = [
      ...keep.map(([, i]) => rb.data.children[i]!),
      ...extra.map((e, k) =>
        buildColumn(
          fields[keep.length + k]!,
          new Array<unknown>(rb.numRows).fill(
            e.type instanceof Int64 && typeof e.value === 'number' ? BigInt(e.value) : e.value,
          ),
        ),
      ),
    ];
    const schema = new Schema(fields, rb.schema.metadata);
    const data = makeData({ type: new Struct(fields), length: rb.numRows, nullCount: 0, children });
    return Batch.fromArrow(makeRecordBatchFast(schema, data), batch.position) as Batch<Row>;
  }
  const rows = batch.rows as Record<string, unknown>[];
  for (const row of rows) for (const e of extra) row[e.name] = e.value;
  return batch;
}

/**
 * Adds the columns of `names` that `batch` lacks, all null (a file older than the column): Arrow
 * Null columns, which the schema unifier widens to the type later files give them.
 */
export function addNullColumns(batch: Batch<Row>, names: readonly string[]): Batch<Row> {
  if (batch.hasArrow && !batch.hasRows) {
    const rb = batch.arrow;
    const have = new Set(rb.schema.fields.map((f) => f.name));
    const missing = names.filter((n) => !have.has(n));
    if (missing.length === 0) return batch;
    const added = missing.map((n) => new Field(n, new Null(), true));
    const fields = [...rb.schema.fields, ...added];
    const children = [
      ...rb.data.children,
      ...added.map(() => makeData({ type: new Null(), length: rb.numRows, nullCount: rb.numRows })),
    ];
    const data = makeData({ type: new Struct(fields), length: rb.numRows, nullCount: 0, children });
    return Batch.fromArrow(
      makeRecordBatchFast(new Schema(fields, rb.schema.metadata), data),
      batch.position,
    ) as Batch<Row>;
  }
  const rows = batch.rows as Record<string, unknown>[];
  if (rows.length === 0 || Array.isArray(rows[0])) return batch;
  const missing = names.filter((n) => !(n in rows[0]!));
  if (missing.length === 0) return batch;
  for (const row of rows) for (const n of missing) if (!(n in row)) row[n] = null;
  return batch;
}

/** Keeps rows where `test` is true: on the Arrow buffers when it can, else on rows; `emptyTextIsNull`: `where` reads `''` as NULL (CSV). */
export function filterBatch(batch: Batch<Row>, test: RowTest, emptyTextIsNull = false): Batch<Row> {
  if (batch.hasArrow && !batch.hasRows) {
    const rb = batch.arrow;
    if (isViewable(rb) && isBatchSelectable(rb)) {
      const viewer = new RowViewer<Record<string, unknown>>(rb);
      const view = viewer.view;
      const get = emptyTextIsNull
        ? (col: string): unknown => nullIfEmpty(view[col])
        : (col: string): unknown => view[col];
      const keep: number[] = [];
      for (let i = 0; i < rb.numRows; i++) {
        viewer.index = i;
        if (test(get) === TRUE) keep.push(i);
      }
      return Batch.fromArrow(selectRows(rb, keep), batch.position) as Batch<Row>;
    }
  }
  const rows = batch.rows as Record<string, unknown>[];
  const kept = emptyTextIsNull
    ? rows.filter((row) => test((col) => nullIfEmpty(row[col])) === TRUE)
    : rows.filter((row) => test((col) => row[col]) === TRUE);
  // the column names go along: a filter that keeps no row still leaves them (a CSV header)
  return kept.length === rows.length ? batch : new Batch(kept, batch.position, undefined, batch.columns);
}

/** An empty string as null (a CSV's empty field, as SQL reads it), any other value as it is. */
function nullIfEmpty(value: unknown): unknown {
  return value === '' ? null : value;
}

/** Keeps `columns`, in that order. */
export function project(batch: Batch<Row>, columns: readonly string[]): Batch<Row> {
  if (batch.hasArrow && !batch.hasRows)
    return Batch.fromArrow(selectColumns(batch.arrow, columns), batch.position) as Batch<Row>;
  const rows = (batch.rows as Record<string, unknown>[]).map((row) => {
    const out: Record<string, unknown> = {};
    for (const c of columns) out[c] = row[c] ?? null;
    return out;
  });
  return new Batch(rows, batch.position, undefined, columns);
}
