/**
 * Canonical key encoding for the hash operators (groupBy, distinct, join). Two rows share a key
 * exactly when their key values are equal under SQL grouping rules, so the encoding must never
 * collide silently: every value carries a type tag, strings are length-prefixed inside multi-column
 * keys, integers encode the same whether they arrive as a number or a bigint (Int64 columns read
 * with `int64: 'auto'` mix both), -0 encodes as 0 and every NaN as one NaN (DuckDB groups them so).
 * Also: the value order min/max use (a spill partition is picked by key-dictionary.ts `hashCanonical`).
 */
import { nanosOf } from '../formats/values.ts';

/** Encodes one value; `multi` adds what makes the concatenation of several values unambiguous. */
export function encodeValue(value: unknown, multi: boolean): string {
  switch (typeof value) {
    case 'string':
      return multi ? `s${value.length}:${value}` : `s${value}`;
    case 'number':
      if (Number.isInteger(value))
        return `i${Number.isSafeInteger(value) ? String(value === 0 ? 0 : value) : BigInt(value).toString()};`;
      return `f${Number.isNaN(value) ? 'NaN' : String(value)};`;
    case 'bigint':
      return `i${value.toString()};`;
    case 'boolean':
      return value ? 'T;' : 'F;';
    case 'undefined':
      return 'n;';
    case 'object': {
      if (value === null) return 'n;';
      if (value instanceof Date) {
        const nanos = nanosOf(value);
        return `t${value.getTime()}${nanos !== 0 ? `.${nanos}` : ''};`;
      }
      if (value instanceof Uint8Array) {
        const hex = Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('hex');
        return `x${hex};`;
      }
      const json = JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? `${v.toString()}n` : v));
      return `j${json.length}:${json}`;
    }
    default:
      return `o${String(value)};`;
  }
}

/** True for the values that never match in a join (SQL NULL). */
export function isNullish(value: unknown): boolean {
  return value === null || value === undefined;
}

/** Reads key column values out of a row (object rows by name, array rows by index). */
export type KeyGetter = (row: object) => unknown;

/** A getter for column `name`. */
export function columnGetter(name: string): KeyGetter {
  return (row) => (row as Record<string, unknown>)[name];
}

/** Builds the canonical key function of `columns`: one encoded string per row. */
export function keyEncoder(columns: readonly string[]): (row: object) => string {
  if (columns.length === 1) {
    const name = columns[0]!;
    return (row) => {
      const v = (row as Record<string, unknown>)[name];
      // the common case first: a string key is its own tag + text
      return typeof v === 'string' ? `s${v}` : encodeValue(v, false);
    };
  }
  return (row) => {
    let key = '';
    for (const name of columns) key += encodeValue((row as Record<string, unknown>)[name], true);
    return key;
  };
}

/** True when any of `columns` is null or undefined in `row` (such a row never matches in a join). */
export function hasNullKey(row: object, columns: readonly string[]): boolean {
  for (const name of columns) if (isNullish((row as Record<string, unknown>)[name])) return true;
  return false;
}

/**
 * Compares strings by Unicode code point, which is the byte order of their UTF-8 (DuckDB's
 * default binary collation). JS `<` compares UTF-16 code units, which puts U+E000..U+FFFF after
 * astral characters; this corrects that.
 */
export function compareStrings(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    if (x >= 0xd800 && y >= 0xd800) {
      // surrogates (0xD800-0xDFFF) stand for code points above 0xFFFF: they sort after 0xE000-0xFFFF
      const xs = x <= 0xdfff ? x + 0x2000 : x - 0x800;
      const ys = y <= 0xdfff ? y + 0x2000 : y - 0x800;
      return xs - ys;
    }
    return x - y;
  }
  return a.length - b.length;
}

/** Orders byte strings as unsigned bytes, a prefix first (DuckDB's BLOB order). */
function compareByteArrays(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

/**
 * Orders two non-null values of one column (min/max, and a sort key without a buffer path):
 * numbers and bigints numerically with NaN above every number (as DuckDB), strings by code point,
 * bytes as unsigned bytes, dates by time (a PreciseDate's nanoseconds included), booleans
 * false < true.
 */
export function compareValues(a: unknown, b: unknown): number {
  if (typeof a === 'string' && typeof b === 'string') return compareStrings(a, b);
  if (typeof a === 'number' && typeof b === 'number') {
    if (Number.isNaN(a)) return Number.isNaN(b) ? 0 : 1;
    if (Number.isNaN(b)) return -1;
    return a < b ? -1 : a > b ? 1 : 0;
  }
  if ((typeof a === 'number' || typeof a === 'bigint') && (typeof b === 'number' || typeof b === 'bigint')) {
    if (typeof a === 'number' && Number.isNaN(a)) return 1;
    if (typeof b === 'number' && Number.isNaN(b)) return -1;
    return a < b ? -1 : a > b ? 1 : 0;
  }
  if (a instanceof Date && b instanceof Date) return a.getTime() - b.getTime() || nanosOf(a) - nanosOf(b);
  if (typeof a === 'boolean' && typeof b === 'boolean') return Number(a) - Number(b);
  if (a instanceof Uint8Array && b instanceof Uint8Array) return compareByteArrays(a, b);
  const x = String(a);
  const y = String(b);
  return compareStrings(x, y);
}
