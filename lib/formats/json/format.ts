/**
 * Rows as JSON Lines text, without losing bigints: `JSON.stringify` refuses them, and turning
 * them into strings would change their type for the reader. A row without bigints goes to
 * `JSON.stringify` as it is (the fast path); a row with one is stringified with each bigint as a
 * marked string, and the marks are then replaced by the bare digits. NaN and infinities, which
 * JSON has no numbers for and `JSON.stringify` writes as null, are written as the bare tokens
 * `NaN`, `Infinity` and `-Infinity`, as DuckDB and Python write them (fromJsonl, DuckDB and
 * Python read them back; a strict JSON parser refuses the line). Dates become ISO strings, as
 * `JSON.stringify` makes them, and binary values (Uint8Array, a Buffer too) base64 strings, where
 * `JSON.stringify` made an object of their bytes (`{"0":1,"1":2}`, or a Buffer's
 * `{"type":"Buffer","data":[...]}`, read back as a struct); other typed arrays become arrays of
 * their numbers. A
 * Map becomes its entries `[{ "key": k, "value": v }]` (how spillway's rows hold a MAP) and a Set
 * its values, where `JSON.stringify` wrote `{}` for both, losing them.
 */
import { nodeCrypto } from '../../core/crypto.ts';
import { FormatError } from '../../core/errors.ts';

/** A function that formats one row as one line (without the newline). */
export type JsonRowFormatter = (row: unknown) => string;

/** A row formatter; the marker is random per formatter, so no user string can be mistaken for one. */
export function jsonLineFormatter(): JsonRowFormatter {
  const token = `\u0000${nodeCrypto().randomBytes(6).toString('hex')}:`;
  const marked = new RegExp(`"\\\\u0000${token.slice(1)}(-?\\d+|NaN|-?Infinity)"`, 'g');
  // `this[key]` is the value before its toJSON ran: a Buffer's toJSON made `{ type, data }` of it
  const replacer = function (this: Record<string, unknown>, key: string, value: unknown): unknown {
    const own = this[key];
    if (own instanceof Uint8Array) return Buffer.from(own.buffer, own.byteOffset, own.byteLength).toString('base64');
    if (ArrayBuffer.isView(own) && !(own instanceof DataView)) return Array.from(own as unknown as ArrayLike<unknown>);
    if (typeof value === 'bigint' || (typeof value === 'number' && !Number.isFinite(value))) return `${token}${value}`;
    if (value instanceof Map) return Array.from(value, ([k, v]) => ({ key: k, value: v }));
    if (value instanceof Set) return Array.from(value);
    return value;
  };
  const marking = (row: unknown): string => JSON.stringify(row, replacer).replace(marked, '$1');
  return (row) => {
    let text: string;
    try {
      text = JSON.stringify(row);
    } catch (error) {
      if (!(error instanceof TypeError) || !/BigInt/i.test(error.message)) throw error;
      return marking(row);
    }
    // JSON.stringify writes NaN and Infinity as null: a line with a null is checked for them; and
    // bytes as an object of indices (`{}` when empty), and a Map or a Set as `{}` (its entries
    // lost): a line with such an object is checked for them, a Map becoming its entries
    // `[{ key, value }]` (the rows form of a MAP) and a Set its values
    if (text.includes('null')) {
      // an invalid Date's toJSON gives null: written, its value would be lost without a word
      const invalid = invalidDateColumn(row);
      if (invalid !== undefined)
        throw new FormatError(
          `Column \`${invalid}\` holds an invalid Date (its time is NaN, as \`new Date(text)\` gives for text it cannot read): JSON would hold null for it`,
          { stage: 'toJsonl' },
        );
      if (hasNonFinite(row, 0)) return marking(row);
    }
    return (text.includes('{"0":') || text.includes('{}') || text.includes('{"type":"Buffer"')) && hasBinary(row, 0)
      ? marking(row)
      : text;
  };
}

/** The top-level column of `row` holding an invalid Date (at any depth), or undefined. */
function invalidDateColumn(row: unknown): string | undefined {
  if (typeof row !== 'object' || row === null) return undefined;
  for (const key of Object.keys(row)) if (hasInvalidDate((row as Record<string, unknown>)[key], 0)) return key;
  return undefined;
}

function hasInvalidDate(value: unknown, depth: number): boolean {
  if (value instanceof Date) return Number.isNaN(value.getTime());
  if (typeof value !== 'object' || value === null || depth > 64) return false;
  if (Array.isArray(value)) return value.some((v) => hasInvalidDate(v, depth + 1));
  if (value instanceof Map)
    return [...value].some(([k, v]) => hasInvalidDate(k, depth + 1) || hasInvalidDate(v, depth + 1));
  if (value instanceof Set) return [...value].some((v) => hasInvalidDate(v, depth + 1));
  for (const key of Object.keys(value))
    if (hasInvalidDate((value as Record<string, unknown>)[key], depth + 1)) return true;
  return false;
}

/** True when `value` holds a typed array (a Buffer too), a Map or a Set (in arrays and objects, as JSON.stringify walks them). */
function hasBinary(value: unknown, depth: number): boolean {
  if ((ArrayBuffer.isView(value) && !(value instanceof DataView)) || value instanceof Map || value instanceof Set)
    return true;
  if (typeof value !== 'object' || value === null || depth > 64 || value instanceof Date) return false;
  if (Array.isArray(value)) return value.some((v) => hasBinary(v, depth + 1));
  for (const key of Object.keys(value)) if (hasBinary((value as Record<string, unknown>)[key], depth + 1)) return true;
  return false;
}

/** True when `value` holds a NaN or infinite number (in arrays and objects, as JSON.stringify walks them). */
function hasNonFinite(value: unknown, depth: number): boolean {
  if (typeof value === 'number') return !Number.isFinite(value);
  if (typeof value !== 'object' || value === null || depth > 64 || value instanceof Date) return false;
  if (Array.isArray(value)) return value.some((v) => hasNonFinite(v, depth + 1));
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return false;
  for (const key of Object.keys(value))
    if (hasNonFinite((value as Record<string, unknown>)[key], depth + 1)) return true;
  return false;
}
