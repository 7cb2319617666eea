/**
 * Parquet -> JavaScript type mapping for {@link openParquet}. hyparquet decodes pages; this file
 * decides what users get, so that no value is silently wrong:
 *
 * | Parquet                                   | JavaScript                                           |
 * |-------------------------------------------|------------------------------------------------------|
 * | BOOLEAN                                   | boolean                                              |
 * | INT32 (any INT/UINT annotation), FLOAT, DOUBLE, FLOAT16 | number (FLOAT: the exact double of the float32) |
 * | INT64, UINT_64                            | `int64: 'auto'` (default): number when within ±2^53-1, else bigint; `'bigint'`: always bigint; `'number'`: number, throws {@link UnsupportedError} for an unsafe value |
 * | DECIMAL (INT32, INT64, BYTE_ARRAY, FIXED) | exact decimal string with the column scale, e.g. `"-64.05"` |
 * | TIMESTAMP MILLIS                          | Date                                                 |
 * | TIMESTAMP MICROS/NANOS, INT96             | {@link PreciseDate} (a Date; `nanos` keeps the sub-millisecond part, `toISOString()` shows it) |
 * | DATE                                      | Date at 00:00 UTC of that day                        |
 * | TIME                                      | string `HH:MM:SS[.fraction]` (outside 00:00..24:00: FormatError) |
 * | INTERVAL                                  | `{ months, days, milliseconds }`                     |
 * | VARIANT                                   | the decoded value (decimals exact, see `read/variant.ts`) |
 * | BYTE_ARRAY with UTF8/STRING/ENUM          | string                                               |
 * | BYTE_ARRAY / FIXED_LEN_BYTE_ARRAY, unannotated or unknown annotation | Uint8Array              |
 * | UUID                                      | string `xxxxxxxx-xxxx-...`                            |
 * | JSON                                      | the parsed value                                     |
 * | LIST / MAP / group                        | array / `{ key, value }[]` entries in file order, keys typed / object; values inside converted as above (`read/values.ts`) |
 * | null                                      | null                                                 |
 */
import { parquetSchema } from 'hyparquet';
import type { FileMetaData, SchemaElement, SchemaTree, ParquetParsers } from 'hyparquet';
import { UnsupportedError } from '../../core/errors.ts';
import { nodeConverter } from './read/values.ts';

export { formatDecimal } from './read/values.ts';

import type { Int64Mode } from '../values.ts';
import { PreciseDate } from '../values.ts';

export { PreciseDate } from '../values.ts';

/** How INT64 values come out (the same choice as for Arrow): see the type table of this module. */
export type { Int64Mode };

/** Simplified type of a top-level column, for schemas shown to users. */
export type ParquetColumnType =
  | 'boolean'
  | 'int32'
  | 'int64'
  | 'float'
  | 'double'
  | 'decimal'
  | 'string'
  | 'binary'
  | 'timestamp'
  | 'date'
  | 'time'
  | 'uuid'
  | 'json'
  | 'interval'
  | 'list'
  | 'map'
  | 'struct'
  | 'variant'
  | 'unknown';

/** One top-level column of a Parquet file. */
export interface ParquetColumn {
  /** Column name. */
  readonly name: string;
  /** What the values are (see the module's table for the JavaScript type). */
  readonly type: ParquetColumnType;
  /** Parquet physical type (`INT64`, `BYTE_ARRAY`, ...) or `GROUP`. */
  readonly physicalType: string;
  /** Converted or logical annotation, when any (`UTF8`, `DECIMAL`, `TIMESTAMP`...). */
  readonly annotation?: string;
  /** False when the column is REQUIRED. */
  readonly nullable: boolean;
  /** Decimal precision and scale. */
  readonly precision?: number;
  readonly scale?: number;
}

function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b < 0n ? q - 1n : q;
}

function checkedDate(millis: bigint, nanos: bigint): Date {
  if (millis > 8_640_000_000_000_000n || millis < -8_640_000_000_000_000n) {
    throw new UnsupportedError(`Timestamp ${millis} ms is outside the range of a JavaScript Date`, {});
  }
  return nanos === -1n ? new Date(Number(millis)) : new PreciseDate(Number(millis), Number(nanos));
}

const MAX_DATE_MS = 8_640_000_000_000_000;

/** Date at `millis` (a PreciseDate with `nanos` unless nanos is -1), checked for range. */
function dateAt(millis: number, nanos: number): Date {
  if (millis > MAX_DATE_MS || millis < -MAX_DATE_MS) {
    throw new UnsupportedError(`Timestamp ${millis} ms is outside the range of a JavaScript Date`, {});
  }
  return nanos === -1 ? new Date(millis) : new PreciseDate(millis, nanos);
}

/** `value` units as floored milliseconds plus the nanoseconds left; fast when it is a safe number. */
function splitUnits(value: bigint, perMilli: number): Date {
  const n = Number(value);
  if (Number.isSafeInteger(n)) {
    const millis = Math.floor(n / perMilli);
    return dateAt(millis, (n - millis * perMilli) * (1_000_000 / perMilli));
  }
  const per = BigInt(perMilli);
  const m = floorDiv(BigInt(value), per);
  return checkedDate(m, (BigInt(value) - m * per) * (1_000_000n / per));
}

/** hyparquet parsers: timestamps floored (not truncated toward zero), sub-millisecond part kept. */
export const parsers: Partial<ParquetParsers> = {
  timestampFromMilliseconds: (millis: bigint) => {
    const n = Number(millis);
    return Number.isSafeInteger(n) ? dateAt(n, -1) : checkedDate(BigInt(millis), -1n);
  },
  timestampFromMicroseconds: (micros: bigint) => splitUnits(micros, 1000),
  timestampFromNanoseconds: (nanos: bigint) => splitUnits(nanos, 1_000_000),
  dateFromDays: (days: number) => {
    // past about 275,760 years from 1970 a Date is Invalid Date: refused, never handed on as one
    if (days > MAX_DATE_DAYS || days < -MAX_DATE_DAYS)
      throw new UnsupportedError(
        `Date ${days} days from 1970-01-01 is outside the range of a JavaScript Date (years -271821 to 275760); read the column with output: 'arrow' (Date32) and keep it there`,
        {},
      );
    return new Date(days * 86_400_000);
  },
};
const MAX_DATE_DAYS = MAX_DATE_MS / 86_400_000;

/** How to finish a decoded top-level column value. */
type Finisher = (value: unknown, column: string) => unknown;

function annotationOf(e: SchemaElement): string | undefined {
  return e.logical_type?.type ?? e.converted_type;
}

function isDecimal(e: SchemaElement): boolean {
  return e.converted_type === 'DECIMAL' || e.logical_type?.type === 'DECIMAL';
}

function columnType(e: SchemaElement, hasChildren: boolean): ParquetColumnType {
  const ann = annotationOf(e);
  if (hasChildren) {
    if (ann === 'VARIANT') return 'variant';
    if (ann === 'LIST') return 'list';
    if (ann === 'MAP' || ann === 'MAP_KEY_VALUE') return 'map';
    return e.repetition_type === 'REPEATED' ? 'list' : 'struct';
  }
  if (e.repetition_type === 'REPEATED') return 'list';
  if (isDecimal(e)) return 'decimal';
  switch (ann) {
    case 'UTF8':
    case 'STRING':
    case 'ENUM':
      return 'string';
    case 'DATE':
      return 'date';
    case 'TIME':
    case 'TIME_MILLIS':
    case 'TIME_MICROS':
      return 'time';
    case 'TIMESTAMP':
    case 'TIMESTAMP_MILLIS':
    case 'TIMESTAMP_MICROS':
      return 'timestamp';
    case 'UUID':
      return 'uuid';
    case 'JSON':
      return 'json';
    case 'FLOAT16':
      return 'float';
    case 'INTERVAL':
      return 'interval';
    default:
      break;
  }
  switch (e.type) {
    case 'BOOLEAN':
      return 'boolean';
    case 'INT32':
      return 'int32';
    case 'INT64':
      return 'int64';
    case 'INT96':
      return 'timestamp';
    case 'FLOAT':
      return 'float';
    case 'DOUBLE':
      return 'double';
    case 'BYTE_ARRAY':
    case 'FIXED_LEN_BYTE_ARRAY':
      return 'binary';
    default:
      return 'unknown';
  }
}

/** Describes the top-level columns of a schema tree. */
export function describeColumns(tree: SchemaTree): ParquetColumn[] {
  return tree.children.map((node) => {
    const e = node.element;
    const ann = annotationOf(e);
    return {
      name: e.name,
      type: columnType(e, node.children.length > 0),
      physicalType: node.children.length > 0 ? 'GROUP' : (e.type ?? 'unknown'),
      ...(ann === undefined ? {} : { annotation: ann }),
      nullable: e.repetition_type !== 'REQUIRED',
      ...(isDecimal(e) ? { precision: e.precision ?? 0, scale: e.scale ?? 0 } : {}),
    };
  });
}

/**
 * Returns a copy of `metadata` in which hyparquet hands over the stored value of each leaf that
 * `read/values.ts` converts itself (decimals, TIME, INTERVAL, VARIANT), at any depth, with one
 * finisher per top-level column that needs one (keyed by column name).
 * @throws FormatError for an annotation its physical type cannot carry; UnsupportedError for a
 *   type that cannot be read exactly (BSON)
 */
export function prepareSchema(
  metadata: FileMetaData,
  int64: Int64Mode,
  file: string,
): {
  metadata: FileMetaData;
  finishers: Map<string, Finisher>;
} {
  const schema: SchemaElement[] = metadata.schema.map((e) => ({ ...e }));
  const copy = { ...metadata, schema };
  const tree = parquetSchema(metadata);
  const decodedTree = parquetSchema(copy);
  const finishers = new Map<string, Finisher>();
  for (const [k, node] of tree.children.entries()) {
    const convert = nodeConverter(node, decodedTree.children[k]!, node.element.name, { int64, file });
    if (convert) finishers.set(node.element.name, (v) => convert(v));
  }
  return { metadata: copy, finishers };
}
