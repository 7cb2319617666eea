/**
 * Schemas that change between batches: unification (Int32 widens to Float64, Null to anything),
 * equality, and casting a batch to a wider schema.
 */
import { INT64_METADATA_KEY, JSON_METADATA_KEY, ROWS_METADATA_KEY } from './infer.ts';
import { dataToValues } from './to-rows.ts';
import {
  DataType,
  Decimal,
  type Dictionary,
  Field,
  Float64,
  Int,
  makeData,
  type RecordBatch,
  Schema,
  Struct,
  util,
} from 'apache-arrow';
import { makeRecordBatchFast } from './record-batch.ts';
import { UnsupportedError } from '../../core/errors.ts';
import { buildColumn } from './build.ts';

/** Digits a 128-bit decimal holds. */
const DECIMAL128_DIGITS = 38;

/**
 * True when `a` and `b` are one type. apache-arrow's `compareTypes` takes any two decimals for
 * the same type (its comparator visits Decimal with `compareAny`), so a DECIMAL(10,2) batch and a
 * DECIMAL(12,4) one were taken for one schema and the second's integers read at the first's
 * scale: 0.2500 became 25.00, silently (a Parquet dataset whose files differ in scale).
 */
export function sameType(a: DataType, b: DataType): boolean {
  return util.compareTypes(a, b) && sameDecimals(a, b);
}

/** Two dictionary types of the same index and value types and ordering, whatever their ids. */
function sameDictionary(a: Dictionary, b: Dictionary): boolean {
  return a.isOrdered === b.isOrdered && sameType(a.indices, b.indices) && sameType(a.dictionary, b.dictionary);
}

/** Decimal scale, precision and width agree throughout two types `compareTypes` found equal. */
function sameDecimals(a: DataType, b: DataType): boolean {
  if (DataType.isDecimal(a) && DataType.isDecimal(b))
    return a.scale === b.scale && a.precision === b.precision && a.bitWidth === b.bitWidth;
  const ca = a.children ?? [];
  const cb = b.children ?? [];
  for (let i = 0; i < ca.length; i++) if (!sameDecimals(ca[i]!.type, cb[i]!.type)) return false;
  if (DataType.isDictionary(a) && DataType.isDictionary(b)) return sameDecimals(a.dictionary, b.dictionary);
  return true;
}

/**
 * The decimal holding every value of both, as DuckDB unifies them: the larger scale, and the
 * larger count of integer digits; undefined past 38 digits.
 */
function widerDecimal(a: Decimal, b: Decimal): Decimal | undefined {
  const scale = Math.max(a.scale, b.scale);
  const precision = Math.max(a.precision - a.scale, b.precision - b.scale) + scale;
  if (precision > DECIMAL128_DIGITS) return undefined;
  return new Decimal(scale, precision, Math.max(128, a.bitWidth, b.bitWidth));
}

/**
 * The narrowest number type holding every value of integer or float types `a` and `b`, as DuckDB
 * unifies a dataset's files: integers of any width and signedness widen to the signed or unsigned
 * integer holding both ranges (INTEGER + UINTEGER -> BIGINT); a FLOAT and a DOUBLE to DOUBLE (every
 * float is a double); an integer of up to 32 bits and a float to DOUBLE. Undefined where a value
 * could change: a 64-bit integer with a float (DuckDB's DOUBLE rounds 2^53 + 1), UBIGINT with a
 * signed type (DuckDB's HUGEINT, which Arrow does not have).
 */
function widerNumber(a: DataType, b: DataType): DataType | undefined {
  if (DataType.isInt(a) && DataType.isInt(b)) {
    if (a.isSigned === b.isSigned) return a.bitWidth >= b.bitWidth ? a : b;
    const [signed, unsigned] = a.isSigned ? [a, b] : [b, a];
    const bits = Math.max(signed.bitWidth, unsigned.bitWidth * 2);
    return bits > 64 ? undefined : new Int(true, bits as 8 | 16 | 32 | 64);
  }
  const float = (t: DataType): boolean => DataType.isFloat(t) && t.precision !== 0; // not a half float
  const small = (t: DataType): boolean => DataType.isInt(t) && t.bitWidth <= 32;
  if ((float(a) || small(a)) && (float(b) || small(b)) && (float(a) || float(b)))
    return DataType.isFloat(a) && a.precision === 2 ? a : DataType.isFloat(b) && b.precision === 2 ? b : new Float64();
  return undefined;
}

/**
 * The type holding both temporal types `a` and `b`: timestamps of one zone widen to the finer
 * unit (a value out of its range fails when cast), and a DATE with a TIMESTAMP without a zone is
 * that TIMESTAMP (the day's midnight), as DuckDB unifies them. A DATE with a zoned TIMESTAMP, or
 * two zones, stays undefined: midnight of which zone, DuckDB answers with its session's.
 */
function widerTemporal(a: DataType, b: DataType): DataType | undefined {
  if (DataType.isTimestamp(a) && DataType.isTimestamp(b))
    return a.timezone === b.timezone ? (a.unit >= b.unit ? a : b) : undefined;
  if (DataType.isDate(a) && DataType.isTimestamp(b) && !b.timezone) return b;
  if (DataType.isDate(b) && DataType.isTimestamp(a) && !a.timezone) return a;
  return undefined;
}

/**
 * The field holding both `a` and `b` (same name): see {@link unifySchemas} for what widens.
 * Throws {@link UnsupportedError} when they cannot widen without loss.
 */
export function widenField(a: Field, b: Field): Field {
  const ta = a.type as DataType;
  const tb = b.type as DataType;
  if (DataType.isNull(ta)) return b.nullable ? b : new Field(b.name, tb, true, b.metadata);
  if (DataType.isNull(tb)) return a.nullable ? a : new Field(a.name, ta, true, a.metadata);
  const ja = a.metadata.get(JSON_METADATA_KEY) === 'true';
  const jb = b.metadata.get(JSON_METADATA_KEY) === 'true';
  if (ja === jb && sameType(ta, tb)) {
    // an Int64 column stays marked all-bigint only when both sides were
    if (a.metadata.get(INT64_METADATA_KEY) !== b.metadata.get(INT64_METADATA_KEY))
      return new Field(a.name, ta, a.nullable || b.nullable);
    return a.nullable || !b.nullable ? a : b;
  }
  const nullable = a.nullable || b.nullable;
  // dictionaries that differ only in their id: an id is local to its file (apache-arrow numbers
  // each new Dictionary type), so the column keeps `a`'s and `b`'s batches are re-encoded with it
  if (DataType.isDictionary(ta) && DataType.isDictionary(tb) && sameDictionary(ta, tb))
    return a.nullable || !b.nullable ? a : new Field(a.name, ta, nullable, a.metadata);
  if (!ja && !jb) {
    const wider = widerNumber(ta, tb) ?? widerTemporal(ta, tb);
    // the wider side's own type object where it is one: apache-arrow's compareTypes tells
    // `new Float64()` from the `Float(DOUBLE)` an IPC reader makes, and the wider file's later
    // batches must compare equal
    if (wider !== undefined)
      return new Field(a.name, sameType(wider, ta) ? ta : sameType(wider, tb) ? tb : wider, nullable);
  }
  // decimals of another scale or precision: rescaled, exactly (a value that does not fit fails when cast)
  if (DataType.isDecimal(ta) && DataType.isDecimal(tb) && !ja && !jb) {
    const wider = widerDecimal(ta, tb);
    if (wider) return new Field(a.name, wider, nullable);
  }
  throw new UnsupportedError(
    `Column "${a.name}" changed type from ${String(ta)}${ja ? ' (JSON)' : ''} to ${String(tb)}${jb ? ' (JSON)' : ''}, which cannot widen without loss`,
    {},
  );
}

/**
 * The narrowest schema holding both `a` and `b`: same columns keep their type; integers -> the
 * integer holding both ranges; floats, and a float with an integer of up to 32 bits -> Float64;
 * timestamps -> the finer unit, a DATE with a zone-less TIMESTAMP -> that TIMESTAMP; decimals ->
 * the larger scale and integer digits (up to 38 digits); Null + T -> T; columns only in `b` are
 * appended (nullable); columns only in `a` become nullable. Other changes (e.g. Int64 + Float64, Utf8 + Int32) throw
 * {@link UnsupportedError}: start a new segment instead. Returns `a` itself when nothing changes.
 */
export function unifySchemas(a: Schema, b: Schema): Schema {
  const byName = new Map(b.fields.map((f) => [f.name, f]));
  let changed = false;
  const fields: Field[] = a.fields.map((fa) => {
    const fb = byName.get(fa.name);
    byName.delete(fa.name);
    const out =
      fb === undefined ? (fa.nullable ? fa : new Field(fa.name, fa.type, true, fa.metadata)) : widenField(fa, fb);
    if (out !== fa) changed = true;
    return out;
  });
  for (const fb of byName.values()) {
    changed = true;
    fields.push(fb.nullable ? fb : new Field(fb.name, fb.type, true, fb.metadata));
  }
  if (a.metadata.get(ROWS_METADATA_KEY) !== b.metadata.get(ROWS_METADATA_KEY)) {
    throw new UnsupportedError('Rows changed from objects to arrays (or back) between batches', {});
  }
  return changed ? new Schema(fields, a.metadata) : a;
}

/** True when two schemas have the same fields (names, types, nullability, field metadata) in order. */
export function schemasEqual(a: Schema, b: Schema): boolean {
  if (a === b) return true;
  if (a.fields.length !== b.fields.length) return false;
  return a.fields.every((fa, i) => {
    const fb = b.fields[i]!;
    return (
      fa.name === fb.name &&
      fa.nullable === fb.nullable &&
      sameType(fa.type as DataType, fb.type as DataType) &&
      fa.metadata.get(JSON_METADATA_KEY) === fb.metadata.get(JSON_METADATA_KEY) &&
      fa.metadata.get(INT64_METADATA_KEY) === fb.metadata.get(INT64_METADATA_KEY)
    );
  });
}

/**
 * Conforms `batch` to `schema` (a widening of its own, e.g. from {@link unifySchemas}): columns
 * with the same type are shared, widened columns are rebuilt, missing columns are all null.
 */
export function castRecordBatch(batch: RecordBatch, schema: Schema): RecordBatch {
  if (schemasEqual(batch.schema, schema)) return batch;
  const index = new Map(batch.schema.fields.map((f, i) => [f.name, i]));
  const children = schema.fields.map((field) => {
    const i = index.get(field.name);
    if (i === undefined) return buildColumn(field, new Array<unknown>(batch.numRows).fill(null));
    const own = batch.schema.fields[i]!;
    const data = batch.getChildAt(i)!.data[0]!;
    if (sameType(own.type as DataType, field.type as DataType)) return data;
    // the same dictionary under another file's id: its own values, under the schema's id
    if (DataType.isDictionary(own.type) && DataType.isDictionary(field.type) && sameDictionary(own.type, field.type))
      return data.clone(field.type);
    return buildColumn(field, dataToValues(data, { int64: 'bigint', timestamps: 'date' }, field.name));
  });
  const struct = makeData({ type: new Struct(schema.fields), length: batch.numRows, nullCount: 0, children });
  return makeRecordBatchFast(schema, struct);
}
