/**
 * Numbers as the row path writes them. `cast: true` rows hold JS numbers, which toParquet
 * infers as DOUBLE (a JS number is a double: no later batch can need a wider type), while the
 * fast scanner's Arrow columns are Int32 when a batch's integers fit. When fromCsv produces Arrow
 * because the pipeline negotiated it (not because the user asked), its Int32 columns become
 * Float64, so the same file gives the same column types, and never a schema that a later
 * fractional value cannot fit, whichever form the stages agreed on. The columns a map adds to
 * Arrow rows (lib/core/row-extend.ts) go the same way, for the same reason.
 */
import {
  Field,
  Float64,
  Schema,
  Struct,
  Type,
  makeData,
  type Data,
  type DataType,
  type RecordBatch,
} from 'apache-arrow';
import { makeRecordBatchFast } from './record-batch.ts';

/** True for a plain (unannotated) signed 32-bit integer column, as the scanner makes them. */
function isInt32(type: DataType): boolean {
  return type.typeId === Type.Int && (type as unknown as { bitWidth: number; isSigned: boolean }).bitWidth === 32;
}

/** `batch` with its Int32 columns as Float64 (same values, same nulls); `batch` itself when it has none. */
export function int32AsDouble(batch: RecordBatch): RecordBatch {
  const fields = batch.schema.fields;
  if (!fields.some((field) => isInt32(field.type))) return batch;
  const children = batch.data.children.map((data, c) => {
    if (!isInt32(fields[c]!.type)) return data;
    const ints = data.values as Int32Array;
    return makeData({
      type: new Float64(),
      offset: data.offset,
      length: data.length,
      nullCount: data.nullCount,
      nullBitmap: data.nullBitmap,
      data: Float64Array.from(ints),
    }) as Data;
  });
  const newFields = fields.map((field) =>
    isInt32(field.type) ? new Field(field.name, new Float64(), field.nullable, field.metadata) : field,
  );
  const schema = new Schema(newFields, batch.schema.metadata);
  const struct = makeData({ type: new Struct(newFields), length: batch.numRows, nullCount: 0, children });
  return makeRecordBatchFast(schema, struct);
}
