/**
 * Rows -> Arrow, step one: the schema of a batch of rows.
 *
 * Inference rules (rows -> Arrow), per column, over every row of the batch:
 * - numbers that are all integers in the int32 range (and not -0) -> Int32; any other number
 *   (fractions, NaN, ±Infinity, -0, integers beyond int32) -> Float64. Both are exact for JS numbers,
 *   so a column that is Int32 in one batch and Float64 in the next widens to Float64 losslessly.
 * - bigint -> Int64 (numbers mixed in must be integers); boolean -> Bool; string -> Utf8;
 *   Date -> Timestamp(ms, UTC), or us/ns when a PreciseDate carries digits below the millisecond
 *   (a Date is an instant: zone `UTC`; a Timestamp without a zone is a wall-clock time, such as a
 *   Parquet TIMESTAMP not adjusted to UTC, and toParquet writes it as one)
 *   (an invalid Date is rejected); Uint8Array -> Binary.
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
 * See build.ts for the columns, widen.ts for schemas that change between batches.
 */
import {
  Binary,
  Bool,
  type DataType,
  Field,
  Float64,
  Int32,
  Int64,
  Null,
  Schema,
  TimestampMillisecond,
  TimestampMicrosecond,
  TimestampNanosecond,
  Utf8,
} from 'apache-arrow';
import { UnsupportedError } from '../../core/errors.ts';
import type { Row } from '../../core/row.ts';
import { INT64_METADATA_KEY, JSON_METADATA_KEY, ROWS_METADATA_KEY } from './metadata-keys.ts';

export { INT64_METADATA_KEY, JSON_METADATA_KEY, ROWS_METADATA_KEY } from './metadata-keys.ts';

/** The int32 range: integers in it infer as Int32. */
export const INT32_MIN = -(2 ** 31);
export const INT32_MAX = 2 ** 31 - 1;

// ---------------------------------------------------------------- inference

type Kind =
  | 'int32'
  | 'float'
  | 'bigint'
  | 'bool'
  | 'string'
  | 'date'
  | 'date_us'
  | 'date_ns'
  | 'binary'
  | 'json'
  | 'null';

/** The finest timestamp unit a Date needs: a PreciseDate carries the nanoseconds below the millisecond. */
function dateKind(value: Date): Kind {
  const nanos = (value as Date & { nanos?: number }).nanos ?? 0;
  if (nanos % 1000 !== 0) return 'date_ns';
  return nanos === 0 ? 'date' : 'date_us';
}

function kindOf(value: unknown, column: string): Kind {
  switch (typeof value) {
    case 'number':
      return Number.isInteger(value) && value >= INT32_MIN && value <= INT32_MAX && !Object.is(value, -0)
        ? 'int32'
        : 'float';
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
      if (value instanceof Date) return dateKind(value);
      if (value instanceof Uint8Array) return 'binary';
      if (
        Array.isArray(value) ||
        Object.getPrototypeOf(value) === Object.prototype ||
        Object.getPrototypeOf(value) === null
      )
        return 'json';
      break;
    default:
      break;
  }
  throw new UnsupportedError(`Column "${column}" holds a ${describeType(value)}, which has no Arrow type`, {});
}

/** A value's type, for messages. */
export function describeType(value: unknown): string {
  if (typeof value === 'object' && value !== null) return value.constructor?.name ?? 'object';
  return typeof value;
}

function typeForKinds(kinds: Set<Kind>, column: string, hasUnsafeNumber: boolean): { type: DataType; json: boolean } {
  kinds.delete('null');
  if (kinds.size === 0) return { type: new Null(), json: false };
  if ([...kinds].every((k) => k.startsWith('date'))) {
    if (kinds.has('date_ns')) return { type: new TimestampNanosecond('UTC'), json: false };
    if (kinds.has('date_us')) return { type: new TimestampMicrosecond('UTC'), json: false };
  }
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
        return { type: new TimestampMillisecond('UTC'), json: false };
      case 'binary':
        return { type: new Binary(), json: false };
      default:
        return { type: new Utf8(), json: true };
    }
  }
  if (kinds.size === 2 && kinds.has('int32') && kinds.has('float')) return { type: new Float64(), json: false };
  if (kinds.size === 2 && kinds.has('bigint') && kinds.has('int32')) return { type: new Int64(), json: false };
  if (
    kinds.has('bigint') &&
    kinds.has('float') &&
    !hasUnsafeNumber &&
    [...kinds].every((k) => k === 'bigint' || k === 'float' || k === 'int32')
  ) {
    // integral floats (beyond int32) mixed with bigints still fit Int64 exactly
    return { type: new Int64(), json: false };
  }
  throw new UnsupportedError(
    `Column "${column}" mixes ${[...kinds].join(' and ')} values; convert them to one type first`,
    {},
  );
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
    const set = kinds.get(name) ?? new Set<Kind>();
    // only bigints (nulls aside): mark the column so 'auto' reads them back as bigints, not numbers
    const onlyBigints = set.has('bigint') && [...set].every((k) => k === 'bigint' || k === 'null');
    const { type, json } = typeForKinds(set, name, unsafe.has(name));
    const metadata = json
      ? new Map([[JSON_METADATA_KEY, 'true']])
      : onlyBigints
        ? new Map([[INT64_METADATA_KEY, 'bigint']])
        : null;
    return new Field(name, type, true, metadata);
  });
  return new Schema(fields, arrayRows ? new Map([[ROWS_METADATA_KEY, 'array']]) : null);
}
