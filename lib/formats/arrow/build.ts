/**
 * Rows -> Arrow, step two: Arrow columns (Data) and RecordBatches built from row values to a
 * schema (inferred by infer.ts or given), and the bytes a RecordBatch holds.
 */
import {
  Binary,
  type Bool,
  type Data,
  type Dictionary,
  DataType,
  DateDay,
  type Decimal,
  Field,
  Float64,
  type Int32,
  Int64,
  type LargeUtf8,
  makeData,
  type Null,
  RecordBatch,
  Schema,
  Struct,
  Timestamp,
  TimeUnit,
  type TimestampMillisecond,
  type TimeMillisecond,
  Type,
  Utf8,
} from 'apache-arrow';
import { UnsupportedError } from '../../core/errors.ts';
import { decimalWords, unscaledDecimal } from './decimal.ts';
import { buildDate, buildTime, buildTimestamp } from './build-temporal.ts';
import { mismatch, validityOf } from './build-checks.ts';
import { DictionaryEncoder } from './dictionary-encoder.ts';
import type { Row } from '../../core/row.ts';
import type { SniffedTypes } from '../../core/sniffed-types.ts';
import { INT32_MAX, JSON_METADATA_KEY, ROWS_METADATA_KEY, inferSchema } from './infer.ts';
import { jsonLineFormatter, type JsonRowFormatter } from '../json/format.ts';
import { LONE_SURROGATE_HINT, wellFormed } from '../values.ts';

/**
 * JSON text of a nested value, as toParquet and toJsonl write it: bigints as their digits and
 * NaN/Infinity as bare tokens, read back exactly (parseJsonExact), where `JSON.stringify` threw on
 * a bigint and wrote NaN as null. Made on first use (the formatter loads node:crypto).
 */
let jsonText: JsonRowFormatter | undefined;

/** Options of {@link rowsToRecordBatch}. */
export interface FromRowsOptions {
  /** Build to this schema instead of inferring one (values must fit; columns are matched by name). */
  schema?: Schema;
  /** Column order for an inferred schema (the source's order; keys of rows follow JavaScript's order). */
  columns?: readonly string[];
  /**
   * Column types a sniffed CSV knows, which the rows alone do not say: a Date of a `date` column is
   * a calendar day (DATE) and of a `timestamp` column a wall-clock time (a TIMESTAMP without a
   * zone), where inferred it is an instant (a TIMESTAMP in UTC); an `int64` column is Int64 and a
   * `double` column Float64 whatever the batch's values (inferred, small integers are Int32). So the
   * Arrow form has DuckDB's types for the CSV, and every batch the same ones.
   */
  sniffed?: SniffedTypes;
}

/** `schema` with the columns of `sniffed` retyped where their inferred type allows (see FromRowsOptions). */
function withSniffed(schema: Schema, sniffed: SniffedTypes | undefined): Schema {
  if (sniffed === undefined) return schema;
  let changed = false;
  const fields = schema.fields.map((field) => {
    const kind = Object.hasOwn(sniffed, field.name) ? sniffed[field.name] : undefined;
    const retyped = kind === undefined ? undefined : sniffedType(kind, field.type as DataType);
    if (retyped === undefined) return field;
    changed = true;
    return new Field(field.name, retyped, field.nullable, field.metadata);
  });
  return changed ? new Schema(fields, schema.metadata) : schema;
}

/** The type a column inferred as `type` takes for its sniffed `kind`, or undefined to keep it. */
function sniffedType(kind: SniffedTypes[string], type: DataType): DataType | undefined {
  const empty = DataType.isNull(type);
  switch (kind) {
    case 'date':
      return DataType.isTimestamp(type) || empty ? new DateDay() : undefined;
    case 'timestamp':
      // microseconds, DuckDB's TIMESTAMP, in every batch (an operator types a column only while
      // every batch gives it one field; a batch of nulls or of whole milliseconds gave Null or
      // milliseconds), or nanoseconds where a batch's values have digits below the microsecond
      if (empty) return new Timestamp(TimeUnit.MICROSECOND, null);
      if (!DataType.isTimestamp(type)) return undefined;
      return new Timestamp(type.unit === TimeUnit.NANOSECOND ? TimeUnit.NANOSECOND : TimeUnit.MICROSECOND, null);
    case 'int64':
      return (DataType.isInt(type) && !(type.bitWidth === 64 && type.isSigned)) || empty ? new Int64() : undefined;
    case 'double':
      return DataType.isInt(type) || empty ? new Float64() : undefined;
  }
}

function toBigInt(field: Field, value: unknown): bigint {
  if (typeof value === 'bigint') {
    // BigInt64Array would wrap it silently (2^64-1 becomes -1)
    if (value > 9223372036854775807n || value < -9223372036854775808n) {
      throw new UnsupportedError(
        `Column "${field.name}" holds ${value}, out of range for int64 (-2^63 .. 2^63-1); keep the column as text (CSV: types: { '${field.name}': 'text' })`,
        {},
      );
    }
    return value;
  }
  if (typeof value === 'number' && Number.isInteger(value)) return BigInt(value);
  throw mismatch(field, value);
}

function buildVarBinary(
  field: Field,
  type: DataType,
  values: readonly unknown[],
  encode: (v: unknown) => Uint8Array | string,
): Data {
  const { bitmap, nullCount } = validityOf(values);
  const offsets = new Int32Array(values.length + 1);
  const parts: (Uint8Array | string)[] = [];
  let total = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v !== null && v !== undefined) {
      const part = encode(v);
      total += typeof part === 'string' ? Buffer.byteLength(part) : part.byteLength;
      parts.push(part);
    }
    if (total > INT32_MAX)
      throw new UnsupportedError(`Column "${field.name}" holds more than 2 GiB of bytes in one batch`, {});
    offsets[i + 1] = total;
  }
  const data = Buffer.allocUnsafe(total);
  let at = 0;
  for (const part of parts) {
    if (typeof part === 'string') at += data.write(part, at);
    else {
      data.set(part, at);
      at += part.byteLength;
    }
  }
  return makeData({
    type: type as Utf8,
    length: values.length,
    nullCount,
    nullBitmap: bitmap,
    valueOffsets: offsets,
    data,
  });
}

/** Builds one column of `type` from JS values. */
export function buildColumn(field: Field, values: readonly unknown[]): Data {
  const type = field.type as DataType;
  const length = values.length;
  const json = field.metadata.get(JSON_METADATA_KEY) === 'true';
  switch (type.typeId) {
    case Type.Null:
      for (const v of values) if (v !== null && v !== undefined) throw mismatch(field, v);
      return makeData({ type: type as Null, length, nullCount: length });
    case Type.Bool: {
      const { bitmap, nullCount } = validityOf(values);
      const bits = new Uint8Array(bitmap.length);
      values.forEach((v, i) => {
        if (v === null || v === undefined) return;
        if (typeof v !== 'boolean') throw mismatch(field, v);
        if (v) bits[i >> 3]! |= 1 << (i & 7);
      });
      return makeData({ type: type as Bool, length, nullCount, nullBitmap: bitmap, data: bits });
    }
    case Type.Int:
    case Type.Float:
      return buildNumeric(field, type, values);
    case Type.Utf8:
      return buildVarBinary(field, type, values, (v) => {
        if (json) return (jsonText ??= jsonLineFormatter())(v);
        if (typeof v !== 'string') throw mismatch(field, v);
        if (!wellFormed(v))
          throw new UnsupportedError(`Column "${field.name}" holds text with ${LONE_SURROGATE_HINT}`, {});
        return v;
      });
    case Type.Binary:
      return buildVarBinary(field, type, values, (v) => {
        if (!(v instanceof Uint8Array)) throw mismatch(field, v);
        return v;
      });
    case Type.LargeUtf8:
    case Type.LargeBinary: {
      const narrow = type.typeId === Type.LargeUtf8 ? new Utf8() : new Binary();
      return withLargeOffsets(type, buildColumn(new Field(field.name, narrow, field.nullable, field.metadata), values));
    }
    case Type.Dictionary:
      return new DictionaryEncoder(field as Field<Dictionary>, buildColumn).encode(values);
    case Type.Timestamp:
      return buildTimestamp(field, type as TimestampMillisecond, values);
    case Type.Date:
      return buildDate(field, type as DateDay, values);
    case Type.Time:
      return buildTime(field, type as TimeMillisecond, values);
    case Type.Decimal:
      return buildDecimal(field, type as Decimal, values);
    default:
      throw new UnsupportedError(`Column "${field.name}": building ${String(type)} from rows is not supported`, {});
  }
}

/** `data` (Utf8 or Binary) as its Large type: the same bytes, 64-bit offsets (apache-arrow reads 32-bit ones given to a Large type as nulls). */
function withLargeOffsets(type: DataType, data: Data): Data {
  return makeData({
    type: type as LargeUtf8,
    length: data.length,
    nullCount: data.nullCount,
    nullBitmap: data.nullBitmap,
    valueOffsets: BigInt64Array.from(data.valueOffsets, (o) => BigInt(o as number)),
    data: data.values as Uint8Array,
  });
}

/**
 * Integers of any width and sign from numbers or bigints in their range (64 bits: bigints or safe
 * integers); Float64 from numbers (and exact bigints), Float32 from numbers a float32 holds exactly
 * (as a Float32 column reads). Half floats are not built.
 */
function buildNumeric(field: Field, type: DataType, values: readonly unknown[]): Data {
  const length = values.length;
  const { bitmap, nullCount } = validityOf(values);
  const t = type as unknown as { bitWidth: number; isSigned: boolean; precision: number };
  const ArrayType = (type as unknown as { ArrayType: new (n: number) => unknown }).ArrayType;
  const make = (data: unknown) =>
    makeData({ type: type as Int32, length, nullCount, nullBitmap: bitmap, data: data as Int32Array });
  if (type.typeId === Type.Int && t.bitWidth === 64) {
    const out = new ArrayType(length) as BigInt64Array | BigUint64Array;
    values.forEach((v, i) => {
      if (v === null || v === undefined) return;
      const b = toBigInt(field, v);
      if (!t.isSigned && b < 0n) throw mismatch(field, v);
      out[i] = t.isSigned ? b : BigInt.asUintN(64, b);
    });
    return make(out);
  }
  if (type.typeId === Type.Float && t.precision === 0)
    throw new UnsupportedError(`Column "${field.name}": building ${String(type)} from rows is not supported`, {});
  const int = type.typeId === Type.Int;
  const lo = int ? (t.isSigned ? -(2 ** (t.bitWidth - 1)) : 0) : -Infinity;
  const hi = int ? (t.isSigned ? 2 ** (t.bitWidth - 1) - 1 : 2 ** t.bitWidth - 1) : Infinity;
  const single = !int && t.precision === 1;
  const out = new ArrayType(length) as Int32Array;
  values.forEach((v, i) => {
    if (v === null || v === undefined) return;
    let n: number;
    if (typeof v === 'number') n = v;
    else if (typeof v === 'bigint' && Number.isSafeInteger(Number(v)) && BigInt(Number(v)) === v) n = Number(v);
    else throw mismatch(field, v);
    const exact = int
      ? Number.isInteger(n) && n >= lo && n <= hi && !Object.is(n, -0)
      : !single || Number.isNaN(n) || Math.fround(n) === n;
    if (!exact) throw mismatch(field, v);
    out[i] = n;
  });
  return make(out);
}

/** Decimals from their exact text (as rows hold them), bigints or safe integers; a value the type cannot hold exactly is refused. */
function buildDecimal(field: Field, type: Decimal, values: readonly unknown[]): Data {
  const { bitmap, nullCount } = validityOf(values);
  const stride = type.bitWidth / 32;
  const words = new Uint32Array(values.length * stride);
  values.forEach((v, i) => {
    if (v === null || v === undefined) return;
    const units = unscaledDecimal(v, type.precision, type.scale);
    if (units === undefined) throw mismatch(field, v);
    decimalWords(units, words, i * stride, stride);
  });
  return makeData({ type, length: values.length, nullCount, nullBitmap: bitmap, data: words });
}

/**
 * Converts a batch of rows (objects keyed by column, or arrays) to one RecordBatch, inferring
 * the schema unless `options.schema` is given. Throws {@link UnsupportedError} naming the
 * column when a value does not fit.
 */
export function rowsToRecordBatch(rows: readonly Row[], options: FromRowsOptions = {}): RecordBatch {
  const schema = options.schema ?? withSniffed(inferSchema(rows, options.columns), options.sniffed);
  const arrayRows = schema.metadata.get(ROWS_METADATA_KEY) === 'array';
  const children = schema.fields.map((field, c) => {
    const values = new Array<unknown>(rows.length);
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i]!;
      values[i] =
        arrayRows || Array.isArray(row) ? (row as unknown[])[c] : (row as Record<string, unknown>)[field.name];
    }
    return buildColumn(field, values);
  });
  const struct = makeData({ type: new Struct(schema.fields), length: rows.length, nullCount: 0, children });
  return new RecordBatch(schema, struct);
}

/** Bytes held by a RecordBatch's buffers (what it costs in memory, excluding JS object overhead). */
export function recordBatchBytes(batch: RecordBatch): number {
  let bytes = 0;
  const visit = (data: Data): void => {
    for (const buffer of [data.values, data.valueOffsets, data.nullBitmap, data.typeIds] as (
      | ArrayBufferView
      | undefined
    )[]) {
      if (buffer && buffer.byteLength) bytes += buffer.byteLength;
    }
    for (const child of data.children) visit(child);
    if (data.dictionary) for (const d of data.dictionary.data) visit(d);
  };
  for (const d of batch.data.children) visit(d);
  return bytes;
}
