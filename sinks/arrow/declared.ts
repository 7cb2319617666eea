/**
 * toArrow's declared `schema`: every batch, rows or Arrow, is built to it column by column. A value
 * is kept when the declared type holds it exactly (build.ts checks each one: 1 into Int16 is kept,
 * 40000 or 1.5 refused), a column the batch lacks is written as nulls, and a column the schema
 * lacks is refused: a misspelt declared name would otherwise write nulls and drop the data.
 */
import {
  type Data,
  DataType,
  type Dictionary,
  type Field,
  makeData,
  type RecordBatch,
  type Schema,
  Struct,
} from 'apache-arrow';
import type { Batch } from '../../lib/core/batch.ts';
import { SchemaMismatchError } from '../../lib/core/errors.ts';
import { buildColumn } from '../../lib/formats/arrow/build.ts';
import { DictionaryEncoder } from '../../lib/formats/arrow/dictionary-encoder.ts';
import { makeRecordBatchFast } from '../../lib/formats/arrow/record-batch.ts';
import { dataToValues } from '../../lib/formats/arrow/to-rows.ts';
import { sameType } from '../../lib/formats/arrow/widen.ts';

/** Conforms batches to one declared schema; dictionary columns keep one dictionary for the whole output. */
export class DeclaredSchema {
  readonly #names: Set<string>;
  readonly #encoders = new Map<string, DictionaryEncoder>();

  /** `schema`: the user's `options.schema`. */
  constructor(readonly schema: Schema) {
    this.#names = new Set(schema.fields.map((f) => f.name));
  }

  /** `batch` as a RecordBatch of exactly the declared schema; throws naming the column that does not fit. */
  conform(batch: Batch): RecordBatch {
    const columns = batch.hasArrow ? this.#fromArrow(batch.arrow) : this.#fromRows(batch);
    const struct = makeData({
      type: new Struct(this.schema.fields),
      length: batch.numRows,
      nullCount: 0,
      children: columns,
    });
    return makeRecordBatchFast(this.schema, struct);
  }

  #fromArrow(recordBatch: RecordBatch): Data[] {
    const index = new Map(recordBatch.schema.fields.map((f, i) => [f.name, i]));
    for (const name of index.keys()) this.#known(name);
    return this.schema.fields.map((field) => {
      const i = index.get(field.name);
      if (i === undefined) return this.#build(field, new Array<unknown>(recordBatch.numRows).fill(null));
      const data = recordBatch.getChildAt(i)!.data[0]!;
      // a Dictionary is re-encoded against the output's one dictionary
      if (sameType(data.type as DataType, field.type as DataType) && !DataType.isDictionary(field.type)) return data;
      return this.#build(field, dataToValues(data, { int64: 'bigint', timestamps: 'date' }, field.name));
    });
  }

  #fromRows(batch: Batch): Data[] {
    const rows = batch.rows as unknown[];
    const order = batch.columns;
    for (const row of rows) {
      if (Array.isArray(row)) continue;
      for (const key in row as object) this.#known(key);
    }
    return this.schema.fields.map((field, c) => {
      // array rows are positional, unless the source named their columns
      const at = order === undefined ? c : order.indexOf(field.name);
      const values = rows.map((row) =>
        Array.isArray(row) ? (at < 0 ? undefined : row[at]) : (row as Record<string, unknown>)[field.name],
      );
      return this.#build(field, values);
    });
  }

  #build(field: Field, values: readonly unknown[]): Data {
    if (!DataType.isDictionary(field.type)) return buildColumn(field, values);
    let encoder = this.#encoders.get(field.name);
    if (encoder === undefined) {
      encoder = new DictionaryEncoder(field as Field<Dictionary>, buildColumn);
      this.#encoders.set(field.name, encoder);
    }
    return encoder.encode(values);
  }

  #known(name: string): void {
    if (this.#names.has(name)) return;
    throw new SchemaMismatchError(
      `the batch has column \`${name}\`, which the declared options.schema lacks; add it to the schema, or drop it (\`select\`) before the sink`,
      {},
    );
  }
}
