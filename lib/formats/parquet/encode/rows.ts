/**
 * Appends one JS value to a column buffer, checking it fits the column's kind exactly (the rows
 * path of the writer). Returns false for a value that does not fit; the writer then widens the
 * column (first row group) or raises a FormatError naming the column and row.
 */
import type { ColumnBuffer } from './column-buffer.ts';
import { intRange } from './column-buffer.ts';
import type { ColumnKind } from './schema.ts';
import { jsonLineFormatter } from '../../json/format.ts';
import { wellFormed } from '../../values.ts';

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const UINT64_MAX = 2n ** 64n - 1n;

/** JSON text of a list, struct or other object value: bigints (int64 inside) as their exact digits. */
const jsonText = jsonLineFormatter();

/** Appends a non-null value; false when it does not fit the column. */
export function pushValue(col: ColumnBuffer, value: unknown): boolean {
  switch (col.kind) {
    case 'double':
      if (typeof value !== 'number') return false;
      col.pushNumber(value);
      return true;
    case 'string':
      if (typeof value !== 'string' || !wellFormed(value)) return false;
      col.pushString(value);
      return true;
    case 'int32':
    case 'int8':
    case 'int16':
    case 'uint8':
    case 'uint16':
    case 'uint32': {
      const range = intRange(col.kind)!;
      if (typeof value !== 'number' || !Number.isInteger(value) || value < range[0] || value > range[1]) return false;
      col.pushNumber(value | 0);
      return true;
    }
    case 'int64':
    case 'uint64':
      return pushInt64(col, value, col.kind === 'uint64');
    case 'float':
      if (typeof value !== 'number' || (Math.fround(value) !== value && value === value)) return false;
      col.pushNumber(value);
      return true;
    case 'boolean':
      if (typeof value !== 'boolean') return false;
      col.pushBool(value);
      return true;
    case 'binary':
      if (!(value instanceof Uint8Array)) return false;
      col.pushBytes(value);
      return true;
    case 'json': {
      // (a function or symbol has no JSON text: refused, as before)
      if (typeof value === 'function' || typeof value === 'symbol' || value === undefined) return false;
      const text = jsonText(value);
      col.pushString(text);
      return true;
    }
    case 'timestamp':
    case 'timestamp_us':
    case 'timestamp_ns':
    case 'date':
      return pushTemporal(col, value);
    case 'null':
    // rows carry decimals and times of day as text: such a column is written from Arrow only
    case 'decimal':
    case 'time_ms':
    case 'time_us':
    case 'time_ns':
      return false;
  }
}

/** A bigint in range, or a safe integer number; unsigned values are stored as their 64-bit pattern. */
function pushInt64(col: ColumnBuffer, value: unknown, unsigned: boolean): boolean {
  if (typeof value === 'bigint') {
    if (unsigned ? value < 0n || value > UINT64_MAX : value < INT64_MIN || value > INT64_MAX) return false;
    col.pushBigInt(unsigned ? BigInt.asIntN(64, value) : value);
    return true;
  }
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || (unsigned && value < 0)) return false;
  col.pushBigInt(BigInt(value));
  return true;
}

/** A valid Date as days, milliseconds, or (a PreciseDate's nanoseconds kept) micro- or nanoseconds. */
function pushTemporal(col: ColumnBuffer, value: unknown): boolean {
  if (!(value instanceof Date)) return false;
  const ms = value.getTime();
  if (Number.isNaN(ms)) return false;
  const nanos = (value as Date & { nanos?: number }).nanos ?? 0;
  if (col.kind === 'date') {
    // a calendar day is a Date at UTC midnight: a time of day is refused, never cut off
    if (ms % 86_400_000 !== 0 || nanos !== 0) return false;
    col.pushNumber(ms / 86_400_000);
  } else if (col.kind === 'timestamp') {
    // a PreciseDate's microseconds do not fit milliseconds: refused, never cut off
    if (nanos !== 0) return false;
    col.pushBigInt(BigInt(ms));
  } else {
    // a PreciseDate (from our reader) carries the nanoseconds below the millisecond
    const ns = BigInt(ms) * 1_000_000n + BigInt(nanos);
    if (col.kind === 'timestamp_ns') {
      // int64 nanoseconds end in 1677 and 2262: a date past them is refused, never wrapped
      // (9999-12-31 was written as 1816-03-29)
      if (ns !== BigInt.asIntN(64, ns)) return false;
      col.pushBigInt(ns);
    } else {
      if (ns % 1000n !== 0n) return false;
      col.pushBigInt(ns / 1000n);
    }
  }
  return true;
}

/** The kind a JS value suggests, for widening a column of the first row group. */
export function kindOfValue(value: unknown): ColumnKind | undefined {
  if (typeof value === 'number')
    return Number.isInteger(value) && value >= -(2 ** 31) && value < 2 ** 31 && !Object.is(value, -0)
      ? 'int32'
      : 'double';
  if (typeof value === 'bigint') return 'int64';
  if (value instanceof Date) return dateKind(value);
  return undefined;
}

/**
 * The timestamp kind a Date needs: a PreciseDate (our reader's TIMESTAMP MICROS/NANOS values)
 * keeps its sub-millisecond digits as micro- or nanoseconds, a plain Date is milliseconds.
 */
export function dateKind(value: Date): ColumnKind {
  const nanos = (value as Date & { nanos?: number }).nanos;
  if (nanos === undefined) return 'timestamp';
  return nanos % 1000 === 0 ? 'timestamp_us' : 'timestamp_ns';
}
