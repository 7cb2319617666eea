/**
 * Arrow columns the Parquet writer takes in their plain form: string and binary views (what
 * Polars writes to Arrow IPC) as Utf8 and Binary, fixed-size binary (UUIDs, hashes) as Binary,
 * the BYTE_ARRAY DuckDB writes for it, and dictionaries of other values than strings (which the
 * writer encodes itself) as their values. Values are unchanged; only their layout is. Top-level
 * columns: nested ones reach the writer as rows.
 */
import {
  Binary,
  Field,
  RecordBatch,
  Schema,
  Struct,
  Type,
  Utf8,
  makeData,
  type Data,
  type DataType,
} from 'apache-arrow';
import { buildColumn } from '../../arrow/build.ts';
import { valueReader } from '../../arrow/to-rows.ts';
import { kindOfArrow } from '../encode/schema.ts';

/** The plain type of a view, fixed-size binary or dictionary type, else undefined (the type is written as it is). */
function plainType(type: DataType): DataType | undefined {
  switch (type.typeId) {
    case Type.Utf8View:
      return new Utf8();
    case Type.BinaryView:
    case Type.FixedSizeBinary:
      return new Binary();
    case Type.Dictionary: {
      // string dictionaries are written as they are; other values, when the writer takes them
      const values = (type as unknown as { dictionary: DataType }).dictionary;
      return kindOfArrow(type) === undefined && kindOfArrow(values) !== undefined ? values : undefined;
    }
    default:
      return undefined;
  }
}

/** `batch` with its view and fixed-size binary columns as Utf8 and Binary (the same batch when it has none). */
export function plainArrow(batch: RecordBatch): RecordBatch {
  const fields = batch.schema.fields;
  if (!fields.some((f) => plainType(f.type) !== undefined)) return batch;
  const children = batch.data.children as Data[];
  const outFields: Field[] = [];
  const outChildren: Data[] = [];
  fields.forEach((f, c) => {
    const plain = plainType(f.type);
    const data = children[c]!;
    if (plain === undefined) {
      outFields.push(f);
      outChildren.push(data);
      return;
    }
    const field = new Field(f.name, plain, f.nullable, f.metadata);
    const read = valueReader(data, {}, f.name);
    const values = new Array<unknown>(data.length);
    for (let i = 0; i < values.length; i++) values[i] = read(i);
    outFields.push(field);
    outChildren.push(buildColumn(field, values));
  });
  const schema = new Schema(outFields, batch.schema.metadata);
  return new RecordBatch(
    schema,
    makeData({ type: new Struct(outFields), length: batch.numRows, nullCount: 0, children: outChildren }),
  );
}
