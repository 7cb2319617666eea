/**
 * Rows <-> Arrow RecordBatches.
 *
 * Inference rules (rows -> Arrow), per column, over every row of the batch:
 * - numbers that are all integers in the int32 range (and not -0) -> Int32; any other number
 *   (fractions, NaN, ±Infinity, -0, integers beyond int32) -> Float64. Both are exact for JS numbers,
 *   so a column that is Int32 in one batch and Float64 in the next widens to Float64 losslessly.
 * - bigint -> Int64 (numbers mixed in must be integers); boolean -> Bool; string -> Utf8;
 *   Date -> Timestamp(ms, no zone) (an invalid Date is rejected); Uint8Array -> Binary.
 * - null and undefined -> null; a column with nothing else -> Null.
 * - plain objects and arrays -> Utf8 holding JSON, with field metadata `spillway.json` so
 *   {@link recordBatchToRows} parses them back (values inside follow JSON rules: a Date inside
 *   becomes a string, a bigint inside is rejected).
 * - any other mix (e.g. strings and numbers in one column) is rejected with an UnsupportedError
 *   naming the column.
 * Array rows (no header) become columns `0`, `1`, ... and schema metadata `spillway.rows=array`
 * turns them back into arrays. Object rows come back with every column present (null when the
 * input row lacked the key).
 *
 * Arrow -> rows covers every type apache-arrow 21 decodes, reading the buffers directly (its
 * `get()` loses precision on decimals and nanosecond timestamps).
 */
import {
  Binary,
  Bool,
  type Data,
  DataType,
  Field,
  Float64,
  Int32,
  Int64,
  makeData,
  Null,
  RecordBatch,
  Schema,
  Struct,
  TimestampMillisecond,
  Type,
  Utf8,
  makeVector,
  util,
  type Vector,
} from 'apache-arrow';
import { UnsupportedError, FormatError } from '../../core/errors.ts';
import { PreciseDate, type Int64Mode } from '../values.ts';

export type { Int64Mode } from '../values.ts';
import type { Row } from '../../core/row.ts';

/** Options of {@link recordBatchToRows}. */
export interface ToRowsOptions {
  /**
   * 64-bit integers: `auto` (default) gives a number when it is a safe integer and a bigint
   * otherwise; `bigint` always bigint; `number` always number, throwing on an unsafe value.
   */
  int64?: Int64Mode;
  /**
   * Timestamps and dates: `date` (default) gives `Date` (a `PreciseDate` for micro- and
   * nanosecond units: `getTime()` floored to the millisecond, `nanos` and `toISOString()` keep the
   * digits below it); `string` gives ISO-8601 strings with every
   * digit of the unit (`2024-01-01T20:34:56.123456Z`, dates as `YYYY-MM-DD`).
   */
  timestamps?: 'date' | 'string';
  /** Force object rows (`object`) or array rows (`array`); default: what the schema says. */
  shape?: 'object' | 'array';
}

/** Options of {@link rowsToRecordBatch}. */
export interface FromRowsOptions {
  /** Build to this schema instead of inferring one (values must fit; columns are matched by name). */
  schema?: Schema;
  /** Column order for an inferred schema (the source's order; keys of rows follow JavaScript's order). */
  columns?: readonly string[];
}

/** Field metadata key marking a Utf8 column that holds JSON-encoded nested values. */
export const JSON_METADATA_KEY = 'spillway.json';
/** Schema metadata key telling that rows were arrays (`array`) rather than objects. */
export const ROWS_METADATA_KEY = 'spillway.rows';

const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;

// ---------------------------------------------------------------- inference

type Kind = 'int32' | 'float' | 'bigint' | 'bool' | 'string' | 'date' | 'binary' | 'json' | 'null';

function kindOf(value: unknown, column: string): Kind {
  switch (typeof value) {
    case 'number':
      return Number.isInteger(value) && value >= INT32_MIN && value <= INT32_MAX && !Object.is(value, -0) ? 'int32' : 'float';
    case 'bigint':
      return 'bigint';
    case 'boolean':
      return 'bool';
    case 'string':
      return 'string';
    case 'undefined':
      return 'null';
    case 'object':
      if (value === null) return 'null';
      if (value instanceof Date) return 'date';
      if (value instanceof Uint8Array) return 'binary';
      if (Array.isArray(value) || Object.getPrototypeOf(value) === Object.prototype || Object.getPrototypeOf(value) === null) return 'json';
      break;
    default:
      break;
  }
  throw new UnsupportedError(`Column "${column}" holds a ${describeType(value)}, which has no Arrow type`, {});
}

function describeType(value: unknown): string {
  if (typeof value === 'object' && value !== null) return value.constructor?.name ?? 'object';
  return typeof value;
}

function typeForKinds(kinds: Set<Kind>, column: string, hasUnsafeNumber: boolean): { type: DataType; json: boolean } {
  kinds.delete('null');
  if (kinds.size === 0) return { type: new Null(), json: false };
  if (kinds.size === 1) {
    const [kind] = kinds;
    switch (kind) {
      case 'int32':
        return { type: new Int32(), json: false };
      case 'float':
        return { type: new Float64(), json: false };
      case 'bigint':
        return { type: new Int64(), json: false };
      case 'bool':
        return { type: new Bool(), json: false };
      case 'string':
        return { type: new Utf8(), json: false };
      case 'date':
        return { type: new TimestampMillisecond(), json: false };
      case 'binary':
        return { type: new Binary(), json: false };
      default:
        return { type: new Utf8(), json: true };
    }
  }
  if (kinds.size === 2 && kinds.has('int32') && kinds.has('float')) return { type: new Float64(), json: false };
  if (kinds.size === 2 && kinds.has('bigint') && kinds.has('int32')) return { type: new Int64(), json: false };
  if (kinds.has('bigint') && kinds.has('float') && !hasUnsafeNumber && [...kinds].every((k) => k === 'bigint' || k === 'float' || k === 'int32')) {
    // integral floats (beyond int32) mixed with bigints still fit Int64 exactly
    return { type: new Int64(), json: false };
  }
  throw new UnsupportedError(`Column "${column}" mixes ${[...kinds].join(' and ')} values; convert them to one type first`, {});
}

/** Infers an Arrow schema from rows (see the module comment for the rules). */
export function inferSchema(rows: readonly Row[], columns?: readonly string[]): Schema {
  const arrayRows = rows.length > 0 && Array.isArray(rows[0]);
  const names: string[] = arrayRows || columns === undefined ? [] : [...columns];
  const kinds = new Map<string, Set<Kind>>(names.map((name) => [name, new Set<Kind>()]));
  const unsafe = new Set<string>(); // columns with a float that is not an integer
  for (const row of rows) {
    if (Array.isArray(row) !== arrayRows) throw new UnsupportedError('Rows mix arrays and objects in one batch', {});
    const entries: [string, unknown][] = Array.isArray(row) ? row.map((v, i) => [String(i), v]) : Object.entries(row);
    for (const [name, value] of entries) {
      let set = kinds.get(name);
      if (set === undefined) {
        set = new Set();
        kinds.set(name, set);
        names.push(name);
      }
      const kind = kindOf(value, name);
      set.add(kind);
      if (kind === 'float' && !Number.isSafeInteger(value)) unsafe.add(name);
    }
  }
  const fields = names.map((name) => {
    const { type, json } = typeForKinds(kinds.get(name) ?? new Set(), name, unsafe.has(name));
    return new Field(name, type, true, json ? new Map([[JSON_METADATA_KEY, 'true']]) : null);
  });
  return new Schema(fields, arrayRows ? new Map([[ROWS_METADATA_KEY, 'array']]) : null);
}

// ---------------------------------------------------------------- building

function validityOf(values: readonly unknown[]): { bitmap: Uint8Array; nullCount: number } {
  const bitmap = new Uint8Array(((values.length + 63) >> 6) << 3);
  let nullCount = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v === null || v === undefined) nullCount++;
    else bitmap[i >> 3]! |= 1 << (i & 7);
  }
  return { bitmap, nullCount };
}

function mismatch(field: Field, value: unknown): UnsupportedError {
  return new UnsupportedError(`Column "${field.name}" is ${String(field.type)} in the schema but holds a ${describeType(value)}`, {});
}

function toBigInt(field: Field, value: unknown): bigint {
  if (typeof value === 'bigint') {
    // BigInt64Array would wrap it silently (2^64-1 becomes -1)
    if (value > 9223372036854775807n || value < -9223372036854775808n) {
      throw new UnsupportedError(`Column "${field.name}" holds ${value}, out of range for int64 (-2^63 .. 2^63-1); keep the column as text (CSV: types: { '${field.name}': 'text' })`, {});
    }
    return value;
  }
  if (typeof value === 'number' && Number.isInteger(value)) return BigInt(value);
  throw mismatch(field, value);
}

function buildVarBinary(field: Field, type: DataType, values: readonly unknown[], encode: (v: unknown) => Uint8Array | string): Data {
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
    if (total > INT32_MAX) throw new UnsupportedError(`Column "${field.name}" holds more than 2 GiB of bytes in one batch`, {});
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
  return makeData({ type: type as Utf8, length: values.length, nullCount, nullBitmap: bitmap, valueOffsets: offsets, data });
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
    case Type.Float: {
      const { bitmap, nullCount } = validityOf(values);
      const is64 = type.typeId === Type.Int && (type as Int64).bitWidth === 64;
      if (is64) {
        const out = new BigInt64Array(length);
        values.forEach((v, i) => {
          if (v !== null && v !== undefined) out[i] = toBigInt(field, v);
        });
        return makeData({ type: type as Int64, length, nullCount, nullBitmap: bitmap, data: out });
      }
      const isInt32 = type.typeId === Type.Int && (type as Int32).bitWidth === 32 && (type as Int32).isSigned;
      const isF64 = type.typeId === Type.Float && (type as Float64).precision === 2;
      if (!isInt32 && !isF64) throw new UnsupportedError(`Column "${field.name}": building ${String(type)} from rows is not supported (use Int32, Int64 or Float64)`, {});
      const out = isInt32 ? new Int32Array(length) : new Float64Array(length);
      values.forEach((v, i) => {
        if (v === null || v === undefined) return;
        if (typeof v === 'number') {
          if (isInt32 && (!Number.isInteger(v) || v < INT32_MIN || v > INT32_MAX || Object.is(v, -0))) throw mismatch(field, v);
          out[i] = v;
        } else if (typeof v === 'bigint' && isF64 && Number.isSafeInteger(Number(v)) && BigInt(Number(v)) === v) {
          out[i] = Number(v);
        } else throw mismatch(field, v);
      });
      return makeData({ type: type as Int32, length, nullCount, nullBitmap: bitmap, data: out as Int32Array });
    }
    case Type.Utf8:
      return buildVarBinary(field, type, values, (v) => {
        if (json) return JSON.stringify(v);
        if (typeof v !== 'string') throw mismatch(field, v);
        return v;
      });
    case Type.Binary:
      return buildVarBinary(field, type, values, (v) => {
        if (!(v instanceof Uint8Array)) throw mismatch(field, v);
        return v;
      });
    case Type.Timestamp: {
      const unit = (type as TimestampMillisecond).unit;
      const scale = [1n, 1n, 1000n, 1000000n][unit] ?? 1n;
      if (unit === 0) throw new UnsupportedError(`Column "${field.name}": building second-unit timestamps from rows is not supported`, {});
      const { bitmap, nullCount } = validityOf(values);
      const out = new BigInt64Array(length);
      values.forEach((v, i) => {
        if (v === null || v === undefined) return;
        if (!(v instanceof Date)) throw mismatch(field, v);
        const ms = v.getTime();
        if (Number.isNaN(ms)) throw new UnsupportedError(`Column "${field.name}" holds an invalid Date`, {});
        out[i] = BigInt(ms) * scale;
      });
      return makeData({ type: type as TimestampMillisecond, length, nullCount, nullBitmap: bitmap, data: out });
    }
    default:
      throw new UnsupportedError(`Column "${field.name}": building ${String(type)} from rows is not supported`, {});
  }
}

/**
 * Converts a batch of rows (objects keyed by column, or arrays) to one RecordBatch, inferring
 * the schema unless `options.schema` is given. Throws {@link UnsupportedError} naming the
 * column when a value does not fit.
 */
export function rowsToRecordBatch(rows: readonly Row[], options: FromRowsOptions = {}): RecordBatch {
  const schema = options.schema ?? inferSchema(rows, options.columns);
  const arrayRows = schema.metadata.get(ROWS_METADATA_KEY) === 'array';
  const children = schema.fields.map((field, c) => {
    const values = new Array<unknown>(rows.length);
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i]!;
      values[i] = arrayRows || Array.isArray(row) ? (row as unknown[])[c] : (row as Record<string, unknown>)[field.name];
    }
    return buildColumn(field, values);
  });
  const struct = makeData({ type: new Struct(schema.fields), length: rows.length, nullCount: 0, children });
  return new RecordBatch(schema, struct);
}

// ---------------------------------------------------------------- unification

function sameType(a: DataType, b: DataType): boolean {
  return util.compareTypes(a, b);
}

function widen(a: Field, b: Field): Field {
  const ta = a.type as DataType;
  const tb = b.type as DataType;
  if (DataType.isNull(ta)) return b.nullable ? b : new Field(b.name, tb, true, b.metadata);
  if (DataType.isNull(tb)) return a.nullable ? a : new Field(a.name, ta, true, a.metadata);
  const ja = a.metadata.get(JSON_METADATA_KEY) === 'true';
  const jb = b.metadata.get(JSON_METADATA_KEY) === 'true';
  if (ja === jb && sameType(ta, tb)) return a.nullable || !b.nullable ? a : b;
  const isInt32 = (t: DataType): boolean => DataType.isInt(t) && t.bitWidth === 32 && t.isSigned;
  const isInt64 = (t: DataType): boolean => DataType.isInt(t) && t.bitWidth === 64 && t.isSigned;
  const isF64 = (t: DataType): boolean => DataType.isFloat(t) && t.precision === 2;
  const nullable = a.nullable || b.nullable;
  if ((isInt32(ta) && isF64(tb)) || (isF64(ta) && isInt32(tb))) return new Field(a.name, new Float64(), nullable);
  if ((isInt32(ta) && isInt64(tb)) || (isInt64(ta) && isInt32(tb))) return new Field(a.name, new Int64(), nullable);
  throw new UnsupportedError(`Column "${a.name}" changed type from ${String(ta)}${ja ? ' (JSON)' : ''} to ${String(tb)}${jb ? ' (JSON)' : ''}, which cannot widen without loss`, {});
}

/**
 * The narrowest schema holding both `a` and `b`: same columns keep their type; Int32 + Float64 ->
 * Float64; Int32 + Int64 -> Int64; Null + T -> T; columns only in `b` are appended (nullable);
 * columns only in `a` become nullable. Other changes (e.g. Int64 + Float64, Utf8 + Int32) throw
 * {@link UnsupportedError}: start a new segment instead. Returns `a` itself when nothing changes.
 */
export function unifySchemas(a: Schema, b: Schema): Schema {
  const byName = new Map(b.fields.map((f) => [f.name, f]));
  let changed = false;
  const fields: Field[] = a.fields.map((fa) => {
    const fb = byName.get(fa.name);
    byName.delete(fa.name);
    const out = fb === undefined ? (fa.nullable ? fa : new Field(fa.name, fa.type, true, fa.metadata)) : widen(fa, fb);
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
      fa.metadata.get(JSON_METADATA_KEY) === fb.metadata.get(JSON_METADATA_KEY)
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
    return buildColumn(field, dataToValues(data, { int64: 'bigint', timestamps: 'date' }, field.name));
  });
  const struct = makeData({ type: new Struct(schema.fields), length: batch.numRows, nullCount: 0, children });
  return new RecordBatch(schema, struct);
}

// ---------------------------------------------------------------- Arrow -> rows

interface Resolved {
  int64: Int64Mode;
  timestamps: 'date' | 'string';
}

function int64Out(v: bigint, mode: Int64Mode, column: string): number | bigint {
  if (mode === 'bigint') return v;
  const safe = v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= BigInt(Number.MIN_SAFE_INTEGER);
  if (safe) return Number(v);
  if (mode === 'number') throw new UnsupportedError(`Column "${column}" holds ${v}, beyond Number.MAX_SAFE_INTEGER; read it with int64: 'bigint' or 'auto'`, {});
  return v;
}

function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b !== 0n && a < 0n !== b < 0n ? q - 1n : q;
}

const UNIT_PER_SECOND = [1n, 1000n, 1000000n, 1000000000n];
const UNIT_DIGITS = [0, 3, 6, 9];
const MAX_DATE_MS = 8_640_000_000_000_000n;

function msToDate(ms: bigint, column: string): Date {
  if (ms > MAX_DATE_MS || ms < -MAX_DATE_MS) throw new UnsupportedError(`Column "${column}" holds a time outside the range of a JS Date`, {});
  return new Date(Number(ms));
}

function timestampOut(v: bigint, unit: number, r: Resolved, column: string): Date | string {
  const perSecond = UNIT_PER_SECOND[unit]!;
  const ms = unit === 0 ? v * 1000n : floorDiv(v, perSecond / 1000n);
  const date = msToDate(ms, column);
  const sub = unit <= 1 ? 0n : v - ms * (perSecond / 1000n);
  // micro- and nanosecond units keep their digits below the millisecond, as fromParquet's rows do
  if (r.timestamps === 'date') return unit <= 1 ? date : new PreciseDate(Number(ms), Number(sub * (1_000_000_000n / perSecond)));
  const iso = date.toISOString();
  if (sub === 0n) return iso;
  return `${iso.slice(0, -1)}${sub.toString().padStart(UNIT_DIGITS[unit]! - 3, '0')}Z`;
}

function timeOfDay(v: bigint, unit: number): string {
  const perSecond = UNIT_PER_SECOND[unit]!;
  const seconds = floorDiv(v, perSecond);
  const frac = v - seconds * perSecond;
  const s = Number(seconds);
  const hms = [Math.floor(s / 3600), Math.floor((s % 3600) / 60), s % 60].map((n) => String(n).padStart(2, '0')).join(':');
  return frac === 0n ? hms : `${hms}.${frac.toString().padStart(UNIT_DIGITS[unit]!, '0')}`;
}

function decimalOut(words: Uint32Array, at: number, stride: number, scale: number): string {
  let v = 0n;
  for (let w = stride - 1; w >= 0; w--) v = (v << 32n) | BigInt(words[at + w]!);
  const bits = BigInt(stride * 32);
  if (v >> (bits - 1n)) v -= 1n << bits;
  const negative = v < 0n;
  let digits = (negative ? -v : v).toString();
  if (scale > 0) {
    digits = digits.padStart(scale + 1, '0');
    digits = `${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
  } else if (scale < 0) digits += '0'.repeat(-scale);
  return negative ? `-${digits}` : digits;
}

/** Reads value `i` (0-based in its Data) as {@link recordBatchToRows} would give it; null when not valid. */
export type ValueReader = (i: number) => unknown;

/**
 * A reader of the values of one Arrow Data, with the same rules as {@link recordBatchToRows}
 * (options default alike). Row views read columns through it; nested columns (lists, structs,
 * maps, unions, dictionaries) decode their children once, on first read.
 */
export function valueReader(data: Data, options: ToRowsOptions = {}, column = ''): ValueReader {
  return readerOf(data, { int64: options.int64 ?? 'auto', timestamps: options.timestamps ?? 'date' }, column);
}

interface NativeSlices {
  utf8Slice(start: number, end: number): string;
}

function dataToValues(data: Data, r: Resolved, column: string): unknown[] {
  const read = readerOf(data, r, column);
  const out = new Array<unknown>(data.length);
  for (let i = 0; i < out.length; i++) out[i] = read(i);
  return out;
}

/** Computes `make()` once, on first call. */
function once<T>(make: () => T): () => T {
  let value: T | undefined;
  let made = false;
  return () => {
    if (!made) {
      value = make();
      made = true;
    }
    return value as T;
  };
}

function readerOf(data: Data, r: Resolved, column: string): ValueReader {
  const type = data.type as DataType;
  const values = data.values as ArrayLike<number | bigint> & { subarray?: unknown };
  // the validity check only where there are nulls
  const valid = (fn: ValueReader): ValueReader => {
    const bitmap = data.nullBitmap;
    if (!bitmap || bitmap.length === 0 || data.nullCount === 0) return fn;
    const offset = data.offset;
    return (i) => (((bitmap[(offset + i) >> 3]! >> ((offset + i) & 7)) & 1) === 1 ? fn(i) : null);
  };
  switch (type.typeId) {
    case Type.Null:
      return () => null;
    case Type.Bool: {
      const bits = data.values as Uint8Array;
      const offset = data.offset;
      return valid((i) => ((bits[(offset + i) >> 3]! >> ((offset + i) & 7)) & 1) === 1);
    }
    case Type.Int: {
      const t = type as Int64;
      if (t.bitWidth === 64) return valid((i) => int64Out(BigInt(values[i]!), r.int64, column));
      return valid((i) => Number(values[i]));
    }
    case Type.Float: {
      if ((type as Float64).precision === 0) {
        const vector = once(() => makeVector(data));
        return valid((i) => vector().get(i));
      }
      return valid((i) => values[i]);
    }
    case Type.Utf8:
    case Type.LargeUtf8: {
      const offsets = data.valueOffsets as ArrayLike<number | bigint>;
      const bytes = data.values as Uint8Array;
      const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength) as unknown as NativeSlices;
      return valid((i) => text.utf8Slice(Number(offsets[i]), Number(offsets[i + 1])));
    }
    case Type.Binary:
    case Type.LargeBinary: {
      const offsets = data.valueOffsets as ArrayLike<number | bigint>;
      const bytes = data.values as Uint8Array;
      return valid((i) => bytes.slice(Number(offsets[i]), Number(offsets[i + 1])));
    }
    case Type.FixedSizeBinary: {
      const width = (type as unknown as { byteWidth: number }).byteWidth;
      const bytes = data.values as Uint8Array;
      return valid((i) => bytes.slice(i * width, (i + 1) * width));
    }
    case Type.Utf8View:
    case Type.BinaryView: {
      const vector = once(() => makeVector(data) as Vector);
      return valid((i) => {
        const v = vector().get(i) as unknown;
        return v instanceof Uint8Array ? v.slice() : v;
      });
    }
    case Type.Decimal: {
      const t = type as unknown as { scale: number; bitWidth: number };
      const stride = t.bitWidth / 32;
      const words = data.values as Uint32Array;
      return valid((i) => decimalOut(words, i * stride, stride, t.scale));
    }
    case Type.Date: {
      const dayUnit = (type as unknown as { unit: number }).unit === 0;
      return valid((i) => {
        const ms = dayUnit ? BigInt(values[i]!) * 86_400_000n : BigInt(values[i]!);
        const date = msToDate(ms, column);
        return r.timestamps === 'date' ? date : date.toISOString().slice(0, 10);
      });
    }
    case Type.Timestamp: {
      const unit = (type as TimestampMillisecond).unit;
      return valid((i) => timestampOut(BigInt(values[i]!), unit, r, column));
    }
    case Type.Time: {
      const unit = (type as unknown as { unit: number }).unit;
      return valid((i) => timeOfDay(BigInt(values[i]!), unit));
    }
    case Type.Duration:
      return valid((i) => int64Out(BigInt(values[i]!), r.int64, column));
    case Type.Interval: {
      const unit = (type as unknown as { unit: number }).unit;
      const ints = data.values as Int32Array;
      if (unit === 0) return valid((i) => ({ months: ints[i] }));
      if (unit === 1) return valid((i) => ({ days: ints[2 * i], milliseconds: ints[2 * i + 1] }));
      return valid((i) => {
        const lo = BigInt(ints[4 * i + 2]! >>> 0);
        const hi = BigInt(ints[4 * i + 3]!);
        return { months: ints[4 * i], days: ints[4 * i + 1], nanoseconds: int64Out((hi << 32n) | lo, r.int64, column) };
      });
    }
    case Type.List:
    case Type.LargeList:
    case Type.Map: {
      const offsets = data.valueOffsets as ArrayLike<number | bigint>;
      const child = data.children[0]!;
      const items = once(() => {
        const all = dataToValues(child, r, column);
        if (type.typeId !== Type.Map) return all;
        // entries are structs of (key, value) whatever their field names
        const [keys, vals] = child.children.map((c) => dataToValues(c, r, column));
        return all.map((_, k) => ({ key: keys?.[k] ?? null, value: vals?.[k] ?? null }));
      });
      return valid((i) => items().slice(Number(offsets[i]), Number(offsets[i + 1])));
    }
    case Type.FixedSizeList: {
      const size = (type as unknown as { listSize: number }).listSize;
      const child = data.children[0]!;
      const items = once(() => dataToValues(child, r, column));
      return valid((i) => items().slice(i * size, (i + 1) * size));
    }
    case Type.Struct: {
      const fields = (type as Struct).children;
      const columns = once(() => data.children.map((c, k) => dataToValues(c, r, `${column}.${fields[k]?.name ?? k}`)));
      const duplicate = new Set(fields.map((f) => f.name)).size !== fields.length;
      return valid((i) => {
        const cols = columns();
        if (duplicate) return cols.map((c) => c[i]);
        const obj: Record<string, unknown> = {};
        fields.forEach((f, k) => {
          obj[f.name] = cols[k]![i];
        });
        return obj;
      });
    }
    case Type.Union: {
      const t = type as unknown as { mode: number; typeIdToChildIndex: Record<number, number> };
      const typeIds = data.typeIds;
      const columns = once(() => data.children.map((c) => dataToValues(c, r, column)));
      const offsets = data.valueOffsets as Int32Array;
      return (i) => columns()[t.typeIdToChildIndex[typeIds[i]!]!]![t.mode === 0 ? i : offsets[i]!];
    }
    case Type.Dictionary: {
      const dictionary = data.dictionary;
      if (!dictionary) throw new FormatError(`Column "${column}" is dictionary-encoded but its dictionary is missing`, {});
      const dict = once(() => dictionary.data.flatMap((d) => dataToValues(d, r, column)));
      return valid((i) => {
        const entries = dict();
        const index = Number(values[i]);
        if (index < 0 || index >= entries.length) throw new FormatError(`Column "${column}" has dictionary index ${index} beyond its ${entries.length} entries`, {});
        return entries[index];
      });
    }
    default:
      throw new UnsupportedError(`Column "${column}" has Arrow type ${String(type)}, which spillway cannot convert to rows`, {});
  }
}

/**
 * Converts a RecordBatch to rows. Column types map to: integers -> number (64-bit per
 * `options.int64`), floats -> number, bool, utf8 -> string, binary -> Uint8Array, decimals ->
 * exact strings, dates/timestamps -> Date (or ISO strings), times -> `HH:MM:SS[.fraction]`,
 * durations -> integers in their unit, intervals -> objects, lists -> arrays, structs -> objects,
 * maps -> arrays of `{ key, value }`, dictionaries -> decoded values, nulls -> null. Columns marked
 * JSON by {@link rowsToRecordBatch} are parsed back.
 */
export function recordBatchToRows(batch: RecordBatch, options: ToRowsOptions = {}): Row[] {
  const r: Resolved = { int64: options.int64 ?? 'auto', timestamps: options.timestamps ?? 'date' };
  const fields = batch.schema.fields;
  const columns = fields.map((field, c) => {
    const vector = batch.getChildAt(c);
    const values = vector === null ? new Array<unknown>(batch.numRows).fill(null) : vector.data.flatMap((d) => dataToValues(d, r, field.name));
    if (field.metadata.get(JSON_METADATA_KEY) === 'true') {
      for (let i = 0; i < values.length; i++) if (typeof values[i] === 'string') values[i] = JSON.parse(values[i] as string);
    }
    return values;
  });
  const asArrays = options.shape === 'array' || (options.shape === undefined && batch.schema.metadata.get(ROWS_METADATA_KEY) === 'array');
  const rows = new Array<Row>(batch.numRows);
  for (let i = 0; i < batch.numRows; i++) {
    if (asArrays) rows[i] = columns.map((c) => c[i]);
    else {
      const row: Record<string, unknown> = {};
      for (let c = 0; c < fields.length; c++) row[fields[c]!.name] = columns[c]![i];
      rows[i] = row;
    }
  }
  return rows;
}

/** Bytes held by a RecordBatch's buffers (what it costs in memory, excluding JS object overhead). */
export function recordBatchBytes(batch: RecordBatch): number {
  let bytes = 0;
  const visit = (data: Data): void => {
    for (const buffer of [data.values, data.valueOffsets, data.nullBitmap, data.typeIds] as (ArrayBufferView | undefined)[]) {
      if (buffer && buffer.byteLength) bytes += buffer.byteLength;
    }
    for (const child of data.children) visit(child);
    if (data.dictionary) for (const d of data.dictionary.data) visit(d);
  };
  for (const d of batch.data.children) visit(d);
  return bytes;
}
