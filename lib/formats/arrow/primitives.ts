/**
 * Arrow columns of JS primitives. Which columns rows hold as primitives: a map reading only such
 * columns, and only during its call, is given a row view in place of an object
 * (lib/core/row-function.ts), as it cannot tell the two apart (it could for a Date or a nested
 * value, which a view makes anew at each read). And batches built from primitive values whose
 * types are known, without an inference pass: the columns a map sets (lib/core/row-extend.ts).
 */
import {
  Bool,
  type DataType,
  type Dictionary,
  Field,
  Float64,
  Int64,
  Null,
  Precision,
  type RecordBatch,
  Schema,
  Type,
  Utf8,
} from 'apache-arrow';
import type { Row } from '../../core/row.ts';
import { rowsToRecordBatch } from './build.ts';
import { INT64_METADATA_KEY, JSON_METADATA_KEY } from './metadata-keys.ts';

/**
 * True when every value rows hold for `field` is a primitive (number, bigint, string, boolean or
 * null): then a function reading it through a row view cannot tell a value read twice from one
 * read once, as it could a Date, a Uint8Array or a nested object (each read makes a new one).
 */
export function primitiveValued(field: Field): boolean {
  return field.metadata.get(JSON_METADATA_KEY) !== 'true' && primitiveType(field.type as DataType);
}

function primitiveType(type: DataType): boolean {
  switch (type.typeId) {
    case Type.Null:
    case Type.Bool:
    case Type.Int:
    case Type.Float:
    case Type.Utf8:
    case Type.LargeUtf8:
    case Type.Utf8View:
    case Type.Decimal:
      return true;
    case Type.Dictionary:
      return primitiveType((type as Dictionary).dictionary as DataType);
    default:
      return false;
  }
}

/** The JS type of a column's values, nulls aside (`null`: no other value), for {@link primitiveBatch}. */
export type PrimitiveType = 'number' | 'string' | 'boolean' | 'bigint' | 'null';

/** The Arrow type rows of JS values of `type` are written as: numbers Float64 (a JS number is a double). */
function arrowTypeOf(type: PrimitiveType): DataType {
  switch (type) {
    case 'number':
      return new Float64();
    case 'string':
      return new Utf8();
    case 'boolean':
      return new Bool();
    case 'bigint':
      return new Int64();
    default:
      return new Null();
  }
}

/**
 * A RecordBatch of columns `columns` of `rows`, each holding values of its one JS type or null:
 * numbers as Float64 (as toParquet writes rows of numbers), bigints as Int64 that reads back as
 * bigints (within the 64-bit range), strings as Utf8. No inference pass over the rows.
 */
export function primitiveBatch(
  rows: readonly Row[],
  columns: readonly { readonly name: string; readonly type: PrimitiveType }[],
): RecordBatch {
  const fields = columns.map(
    ({ name, type }) =>
      new Field(name, arrowTypeOf(type), true, type === 'bigint' ? new Map([[INT64_METADATA_KEY, 'bigint']]) : null),
  );
  return rowsToRecordBatch(rows, { schema: new Schema(fields) });
}

/**
 * True when `field` is the column {@link primitiveBatch} builds from the values rows read from
 * it: a nullable Float64, Utf8 or Bool without metadata. A map's key that copies such a column
 * (`{ symbol: row.symbol }`) may then pass the column on instead of building it again.
 */
export function rebuildsAsItself(field: Field): boolean {
  if (!field.nullable || field.metadata.size > 0) return false;
  const type = field.type as DataType;
  if (type.typeId === Type.Float) return (type as Float64).precision === Precision.DOUBLE;
  return type.typeId === Type.Utf8 || type.typeId === Type.Bool;
}
