/**
 * Appends Arrow column data to a {@link ColumnBuffer} in bulk: fixed-width values with
 * TypedArray.set, byte arrays with one copy of the value bytes plus an offsets loop, validity from
 * the bitmap. A value is converted only when the conversion is exact (int32 into a double column,
 * an int64 that fits into an int32 column, ...); otherwise nothing is appended and the reason is
 * returned, for the writer to widen the column or raise.
 */
import type { Data, DataType, Field } from 'apache-arrow';
import { JSON_METADATA_KEY } from '../../arrow/convert.ts';
import type { ColumnBuffer } from './column-buffer.ts';
import { intRange } from './column-buffer.ts';
import { kindOfArrow, type ColumnKind } from './schema.ts';
import { withDictionaryNulls } from './dictionary-nulls.ts';

/** The kind an Arrow field is written as (undefined: not writable). */
export function kindOfField(field: Field): ColumnKind | undefined {
  const kind = kindOfArrow(field.type);
  if (kind === 'string' && field.metadata.get(JSON_METADATA_KEY) === 'true') return 'json';
  return kind;
}

type AnyData = Data<DataType> & {
  values: ArrayLike<number | bigint> & {
    buffer: ArrayBufferLike;
    byteOffset: number;
    length: number;
    subarray(a: number, b: number): ArrayLike<number | bigint>;
  };
  valueOffsets: Int32Array | BigInt64Array;
  nullBitmap: Uint8Array | undefined;
  dictionary?: { data: Data<DataType>[] };
};

const MS_PER_DAY = 86_400_000;

/** Timestamp multipliers to nanoseconds by Arrow unit (s, ms, us, ns) and by kind. */
export const ARROW_UNIT_NS = [1_000_000_000n, 1_000_000n, 1000n, 1n];
export const KIND_UNIT_NS: Partial<Record<ColumnKind, bigint>> = {
  timestamp: 1_000_000n,
  timestamp_us: 1000n,
  timestamp_ns: 1n,
};

/** Time of day multipliers to nanoseconds by kind. */
const TIME_UNIT_NS: Partial<Record<ColumnKind, bigint>> = { time_ms: 1_000_000n, time_us: 1000n, time_ns: 1n };

/**
 * Appends rows [start, start + count) of `data` (written as `source` kind) to `col`. Returns
 * undefined when done, or why the values do not fit `col` exactly (then nothing was appended).
 */
export function appendArrow(
  col: ColumnBuffer,
  data: Data<DataType>,
  source: ColumnKind,
  start: number,
  count: number,
): string | undefined {
  const d = withDictionaryNulls(data) as AnyData;
  const nullCount = count === d.length ? d.nullCount : countNulls(d, start, count);
  if (nullCount > 0 && !col.nullable)
    return `${nullCount} null value${nullCount === 1 ? '' : 's'} for a non-nullable column`;
  if (count === 0) return undefined;
  col.reserve(count);
  const at = col.n;
  if (source === 'null') {
    for (let k = 0; k < count; k++) col.pushNull();
    return undefined;
  }
  const failure = appendValues(col, d, source, start, count, at);
  if (failure !== undefined) return failure;
  col.markValid(count, d.nullBitmap, d.offset + start, nullCount);
  col.n = at + count;
  return undefined;
}

function countNulls(d: AnyData, start: number, count: number): number {
  if (d.nullCount === 0 || d.nullBitmap === undefined) return (d.type.typeId as number) === 1 ? count : 0;
  const bitmap = d.nullBitmap;
  let valid = 0;
  for (let k = 0; k < count; k++) {
    const bit = d.offset + start + k;
    valid += (bitmap[bit >> 3]! >> (bit & 7)) & 1;
  }
  return count - valid;
}

function isValid(d: AnyData, i: number): boolean {
  if (d.nullBitmap === undefined || d.nullCount === 0) return true;
  const bit = d.offset + i;
  return ((d.nullBitmap[bit >> 3]! >> (bit & 7)) & 1) === 1;
}

/** The append for each storage of the target column. */
type Append = (
  col: ColumnBuffer,
  d: AnyData,
  source: ColumnKind,
  start: number,
  count: number,
  at: number,
) => string | undefined;

function appendValues(
  col: ColumnBuffer,
  d: AnyData,
  source: ColumnKind,
  start: number,
  count: number,
  at: number,
): string | undefined {
  if (col.kind === 'decimal') return appendDecimal(col, d, source, start, count, at);
  const append: Record<ColumnBuffer['storage'], Append> = {
    bytes: appendBytes,
    bool: appendBool,
    f64: appendFloat,
    f32: appendFloat,
    i32: col.kind === 'date' ? appendDate : col.kind === 'time_ms' ? appendTime : appendInt32,
    i64: KIND_UNIT_NS[col.kind] !== undefined ? appendTimestamp : TIME_UNIT_NS[col.kind] ? appendTime : appendInt64,
  };
  return append[col.storage](col, d, source, start, count, at);
}

function appendBool(col: ColumnBuffer, d: AnyData, source: ColumnKind, start: number, count: number, at: number) {
  if (source !== 'boolean') return mismatch(source, col.kind);
  const bits = d.values as unknown as Uint8Array;
  const out = col.bool;
  for (let k = 0; k < count; k++) {
    const bit = d.offset + start + k;
    out[at + k] = (bits[bit >> 3]! >> (bit & 7)) & 1;
  }
  return undefined;
}

/** Copies rows [start, start + count) of `d`'s values into `out` at `at` as they are. */
function copyValues(
  out: { set(values: ArrayLike<number | bigint>, at: number): void },
  d: AnyData,
  start: number,
  count: number,
  at: number,
) {
  out.set(d.values.subarray(start, start + count), at);
  return undefined;
}

function appendFloat(col: ColumnBuffer, d: AnyData, source: ColumnKind, start: number, count: number, at: number) {
  const out = col.storage === 'f64' ? col.f64 : col.f32;
  const f32 = col.storage === 'f32';
  if (source === 'double' || source === 'float' || (intRange(source) !== undefined && source !== 'uint32')) {
    if (!f32 || source === 'float') return copyValues(out, d, start, count, at);
    const exact = (v: number | bigint) => (Math.fround(Number(v)) === Number(v) ? Number(v) : undefined);
    return checkedLoop(out, d, start, count, at, exact, source, col.kind);
  }
  if (source !== 'uint32' && source !== 'int64' && source !== 'uint64') return mismatch(source, col.kind);
  const exact = (v: number | bigint) => {
    const n = source === 'uint32' ? Number(v) >>> 0 : Number(v);
    if (!Number.isSafeInteger(n)) return undefined;
    return f32 && Math.fround(n) !== n ? undefined : n;
  };
  return checkedLoop(out, d, start, count, at, exact, source, col.kind);
}

function appendDate(col: ColumnBuffer, d: AnyData, source: ColumnKind, start: number, count: number, at: number) {
  if (source !== 'date') return mismatch(source, col.kind);
  if ((d.type as DataType & { unit: number }).unit === 0) return copyValues(col.i32, d, start, count, at);
  const days = (v: number | bigint) => {
    const ms = Number(v);
    return ms % MS_PER_DAY === 0 ? ms / MS_PER_DAY : undefined;
  };
  return checkedLoop(col.i32, d, start, count, at, days, source, col.kind);
}

function appendInt32(col: ColumnBuffer, d: AnyData, source: ColumnKind, start: number, count: number, at: number) {
  const target = col.kind;
  const range = intRange(target)!;
  const from = intRange(source);
  if (from !== undefined && from[0] >= range[0] && from[1] <= range[1] && source !== 'uint32')
    return copyValues(col.i32, d, start, count, at);
  if (source === 'uint32' && target === 'uint32') {
    const v = d.values as unknown as Uint32Array;
    col.i32.set(new Int32Array(v.buffer, v.byteOffset + start * 4, count), at);
    return undefined;
  }
  const numeric = source === 'int64' || source === 'uint64' || source === 'double' || source === 'float';
  if (from === undefined && !numeric) return mismatch(source, target);
  const exact = (v: number | bigint) => {
    const n = source === 'uint32' ? Number(v) >>> 0 : Number(v);
    if (typeof v === 'bigint' && BigInt(n) !== v) return undefined;
    if (!Number.isInteger(n) || Object.is(n, -0) || n < range[0] || n > range[1]) return undefined;
    return target === 'uint32' ? n | 0 : n;
  };
  return checkedLoop(col.i32, d, start, count, at, exact, source, target);
}

function appendTimestamp(col: ColumnBuffer, d: AnyData, source: ColumnKind, start: number, count: number, at: number) {
  const targetUnit = KIND_UNIT_NS[col.kind]!;
  if (KIND_UNIT_NS[source] === undefined) return mismatch(source, col.kind);
  const unit = ARROW_UNIT_NS[(d.type as DataType & { unit: number }).unit]!;
  if (unit === targetUnit) return copyValues(col.i64, d, start, count, at);
  const rescale = (v: number | bigint) => {
    const ns = BigInt(v) * unit;
    return ns % targetUnit === 0n ? ns / targetUnit : undefined;
  };
  return checkedLoop(col.i64, d, start, count, at, rescale, source, col.kind);
}

/** Arrow Time32 (seconds, milliseconds) or Time64 (micro-, nanoseconds) into a TIME column of its unit or a finer one. */
function appendTime(col: ColumnBuffer, d: AnyData, source: ColumnKind, start: number, count: number, at: number) {
  const targetUnit = TIME_UNIT_NS[col.kind]!;
  if (TIME_UNIT_NS[source] === undefined) return mismatch(source, col.kind);
  const unit = ARROW_UNIT_NS[(d.type as DataType & { unit: number }).unit]!;
  const out = col.storage === 'i32' ? col.i32 : col.i64;
  if (unit === targetUnit) return copyValues(out, d, start, count, at);
  const int32 = col.storage === 'i32';
  const rescale = (v: number | bigint) => {
    const ns = BigInt(v) * unit;
    if (ns % targetUnit !== 0n) return undefined;
    return int32 ? Number(ns / targetUnit) : ns / targetUnit;
  };
  return checkedLoop(out as { [i: number]: number | bigint }, d, start, count, at, rescale, source, col.kind);
}

function appendInt64(col: ColumnBuffer, d: AnyData, source: ColumnKind, start: number, count: number, at: number) {
  const target = col.kind;
  const out = col.i64;
  const signed = target === 'int64';
  if (source === target) return copyValues(out, d, start, count, at);
  const from = intRange(source);
  if (from !== undefined && (signed || from[0] >= 0)) {
    const v = d.values;
    for (let k = 0; k < count; k++) out[at + k] = BigInt(v[start + k]!);
    return undefined;
  }
  const numeric = source === 'int64' || source === 'uint64' || source === 'double' || source === 'float';
  if (from === undefined && !numeric) return mismatch(source, target);
  const exact = (v: number | bigint) => {
    if (typeof v === 'number' && (!Number.isInteger(v) || Object.is(v, -0))) return undefined;
    const b = BigInt(v);
    if (signed ? b < -(2n ** 63n) || b >= 2n ** 63n : b < 0n || b >= 2n ** 64n) return undefined;
    return BigInt.asIntN(64, b);
  };
  return checkedLoop(out, d, start, count, at, exact, source, target);
}

function mismatch(source: ColumnKind, target: ColumnKind): string {
  return `${source} values cannot be written exactly as ${target}`;
}

/** Converts value by value (nulls skipped); stops at the first value that does not fit. */
function checkedLoop<T extends number | bigint>(
  out: { [i: number]: T },
  d: AnyData,
  start: number,
  count: number,
  at: number,
  convert: (v: number | bigint) => T | undefined,
  source: ColumnKind,
  target: ColumnKind,
): string | undefined {
  const values = d.values;
  for (let k = 0; k < count; k++) {
    if (!isValid(d, start + k)) continue;
    const v = values[start + k]!;
    const converted = convert(v);
    if (converted === undefined) return `${source} value ${String(v)} cannot be written exactly as ${target}`;
    out[at + k] = converted;
  }
  return undefined;
}

function appendBytes(
  col: ColumnBuffer,
  d: AnyData,
  source: ColumnKind,
  start: number,
  count: number,
  at: number,
): string | undefined {
  const target = col.kind;
  // text into text, bytes into bytes; a column of nulls so far (kind null, stored as bytes) is
  // widened first, never filled: its buffer is reset when it takes a type
  if (source !== target) return mismatch(source, target);
  const out = col.offsets;
  if ((d.type.typeId as number) === -1) {
    // dictionary-encoded strings: decode through the indices
    const dict = d.dictionary!.data;
    if (dict.length !== 1) return 'a dictionary of several chunks is not supported';
    const entries = dict[0] as AnyData;
    const eo = entries.valueOffsets as Int32Array;
    const ev = entries.values as unknown as Uint8Array;
    const idx = d.values;
    return copyRanges(col, ev, count, at, (k) => {
      if (!isValid(d, start + k)) return [0, 0];
      const i = Number(idx[start + k]!);
      return [eo[i]!, eo[i + 1]!];
    });
  }
  const offsets = d.valueOffsets;
  const bytes = d.values as unknown as Uint8Array;
  if (offsets instanceof BigInt64Array)
    return copyRanges(col, bytes, count, at, (k) => [Number(offsets[start + k]!), Number(offsets[start + k + 1]!)]);
  const first = offsets[start]!;
  const last = offsets[start + count]!;
  col.reserveBytes(last - first);
  col.data.set(bytes.subarray(first, last), col.byteLength);
  const shift = col.byteLength - first;
  for (let k = 1; k <= count; k++) out[at + k] = offsets[start + k]! + shift;
  col.byteLength += last - first;
  return undefined;
}

/**
 * Decimal32, Decimal64, Decimal128 or Decimal256 values of the column's scale (a precision up to
 * the column's) as big-endian two's complement bytes, the fewest that hold each value.
 */
function appendDecimal(col: ColumnBuffer, d: AnyData, source: ColumnKind, start: number, count: number, at: number) {
  const t = d.type as DataType & { scale?: number; precision?: number; bitWidth?: number };
  const spec = col.decimal!;
  if (source !== 'decimal' || t.scale !== spec.scale || t.precision! > spec.precision)
    return `${String(d.type)} values cannot be written exactly as decimal(${spec.precision}, ${spec.scale})`;
  const words = d.values as unknown as Uint32Array;
  const width = t.bitWidth! / 32; // 32-bit words per value, little-endian
  const bits = BigInt(width * 32);
  const bytes = new Uint8Array(width * 4);
  return copyRanges(col, bytes, count, at, (k) => {
    if (!isValid(d, start + k)) return [0, 0];
    const w = (start + k) * width;
    let v = 0n;
    for (let j = width - 1; j >= 0; j--) v = (v << 32n) | BigInt(words[w + j]!);
    v = BigInt.asIntN(Number(bits), v);
    let n = 1;
    while (n < width * 4 && (v < -(1n << BigInt(8 * n - 1)) || v >= 1n << BigInt(8 * n - 1))) n++;
    // DuckDB reads a DECIMAL above 38 digits as a DOUBLE correctly only from a multiple of 8 bytes
    // (duckdb/duckdb#25058): sign-extended, the value is the same for every reader
    if (spec.precision > 38) n = Math.min(width * 4, Math.ceil(n / 8) * 8);
    for (let b = 0; b < n; b++) bytes[n - 1 - b] = Number(BigInt.asUintN(8, v >> BigInt(8 * b)));
    return [0, n];
  });
}

/** Appends `count` values, value k being bytes `range(k)` of `bytes`, one copy each. */
function copyRanges(
  col: ColumnBuffer,
  bytes: Uint8Array,
  count: number,
  at: number,
  range: (k: number) => [number, number],
): undefined {
  const out = col.offsets;
  for (let k = 0; k < count; k++) {
    const [s, e] = range(k);
    col.reserveBytes(e - s);
    col.data.set(bytes.subarray(s, e), col.byteLength);
    col.byteLength += e - s;
    out[at + k + 1] = col.byteLength;
  }
  return undefined;
}

/** Bytes that rows [start, start + k) of `data` add to a column (the writer's row group bound). */
export function arrowBytes(
  data: Data<DataType>,
  storageWidth: number,
  nullable: boolean,
  start: number,
  k: number,
): number {
  const d = data as AnyData;
  let bytes = k * (storageWidth + (nullable ? 1 : 0));
  if (d.valueOffsets instanceof Int32Array) bytes += d.valueOffsets[start + k]! - d.valueOffsets[start]!;
  else if (d.valueOffsets instanceof BigInt64Array)
    bytes += Number(d.valueOffsets[start + k]! - d.valueOffsets[start]!);
  return bytes;
}
