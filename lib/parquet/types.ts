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
 * | TIME                                      | string `HH:MM:SS[.fraction]`                         |
 * | BYTE_ARRAY with UTF8/STRING/ENUM          | string                                               |
 * | BYTE_ARRAY / FIXED_LEN_BYTE_ARRAY, unannotated or unknown annotation | Uint8Array              |
 * | UUID                                      | string `xxxxxxxx-xxxx-...`                            |
 * | JSON                                      | the parsed value                                     |
 * | LIST / MAP / group                        | array / plain object (hyparquet's assembly) / object |
 * | null                                      | null                                                 |
 */
import type { FileMetaData, SchemaElement, SchemaTree, ParquetParsers } from 'hyparquet';
import { FormatError, UnsupportedError } from '../errors.ts';

import type { Int64Mode } from '../arrow/convert.ts';

/** How INT64 values come out (the same choice as for Arrow): see the type table of this module. */
export type { Int64Mode };

/** Simplified type of a top-level column, for schemas shown to users. */
export type ParquetColumnType =
  | 'boolean' | 'int32' | 'int64' | 'float' | 'double' | 'decimal' | 'string' | 'binary'
  | 'timestamp' | 'date' | 'time' | 'uuid' | 'json' | 'list' | 'map' | 'struct' | 'unknown';

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

/**
 * A Date that keeps nanoseconds below the millisecond (`nanos`, 0..999999), for TIMESTAMP MICROS
 * and NANOS and INT96 columns. `getTime()` is floored to the millisecond; `toISOString()` (and so
 * `JSON.stringify`) prints the extra digits when there are any.
 */
export class PreciseDate extends Date {
  /** Nanoseconds after `getTime()`'s millisecond, 0..999999. */
  readonly nanos: number;
  constructor(millis: number, nanos: number) {
    super(millis);
    this.nanos = nanos;
  }

  override toISOString(): string {
    const iso = super.toISOString();
    if (this.nanos === 0) return iso;
    const digits = String(this.nanos).padStart(6, '0').replace(/0+$/, '');
    return `${iso.slice(0, -1)}${digits}Z`;
  }
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
  dateFromDays: (days: number) => new Date(days * 86_400_000),
};

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
    if (ann === 'LIST') return 'list';
    if (ann === 'MAP' || ann === 'MAP_KEY_VALUE') return 'map';
    return e.repetition_type === 'REPEATED' ? 'list' : 'struct';
  }
  if (e.repetition_type === 'REPEATED') return 'list';
  if (isDecimal(e)) return 'decimal';
  switch (ann) {
    case 'UTF8': case 'STRING': case 'ENUM': return 'string';
    case 'DATE': return 'date';
    case 'TIME': case 'TIME_MILLIS': case 'TIME_MICROS': return 'time';
    case 'TIMESTAMP': case 'TIMESTAMP_MILLIS': case 'TIMESTAMP_MICROS': return 'timestamp';
    case 'UUID': return 'uuid';
    case 'JSON': return 'json';
    case 'FLOAT16': return 'float';
    default: break;
  }
  switch (e.type) {
    case 'BOOLEAN': return 'boolean';
    case 'INT32': return 'int32';
    case 'INT64': return 'int64';
    case 'INT96': return 'timestamp';
    case 'FLOAT': return 'float';
    case 'DOUBLE': return 'double';
    case 'BYTE_ARRAY': case 'FIXED_LEN_BYTE_ARRAY': return 'binary';
    default: return 'unknown';
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

/** Exact decimal string of `unscaled * 10^-scale`. */
export function formatDecimal(unscaled: bigint, scale: number): string {
  const negative = unscaled < 0n;
  let digits = (negative ? -unscaled : unscaled).toString();
  if (scale > 0) {
    digits = digits.padStart(scale + 1, '0');
    digits = `${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
  } else if (scale < 0) {
    digits += '0'.repeat(-scale);
  }
  return negative ? `-${digits}` : digits;
}

function bytesToSignedBigInt(bytes: Uint8Array): bigint {
  let value = 0n;
  for (const byte of bytes) value = (value << 8n) | BigInt(byte);
  if (bytes.length > 0 && (bytes[0]! & 0x80) !== 0) value -= 1n << BigInt(bytes.length * 8);
  return value;
}

function formatTime(value: bigint, perSecond: bigint): string {
  const seconds = floorDiv(value, perSecond);
  const fraction = value - seconds * perSecond;
  const s = Number(seconds);
  const hh = String(Math.floor(s / 3600)).padStart(2, '0');
  const mm = String(Math.floor((s % 3600) / 60)).padStart(2, '0');
  const ss = String(s % 60).padStart(2, '0');
  if (fraction === 0n) return `${hh}:${mm}:${ss}`;
  const width = perSecond.toString().length - 1;
  return `${hh}:${mm}:${ss}.${fraction.toString().padStart(width, '0').replace(/0+$/, '')}`;
}

/** Converts a bigint by the int64 mode (recursing into lists, maps and structs). */
export function int64Converter(mode: Int64Mode): Finisher {
  const convert = (value: unknown, column: string): unknown => {
    if (typeof value === 'bigint') {
      if (mode === 'bigint') return value;
      // a bigint beyond ±(2^53-1) never rounds to a safe number, so this test is exact
      const n = Number(value);
      if (Number.isSafeInteger(n)) return n;
      if (mode === 'auto') return value;
      throw new UnsupportedError(
        `INT64 value ${value} of column \`${column}\` is not a safe JavaScript number; open with int64: 'bigint' or 'auto'`,
        {},
      );
    }
    if (value === undefined) return null;
    if (value === null || typeof value !== 'object' || value instanceof Date || ArrayBuffer.isView(value)) return value;
    if (Array.isArray(value)) return value.map((v) => convert(v, column));
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = convert(v, column);
    return out;
  };
  return convert;
}

/**
 * Returns a copy of `metadata` in which hyparquet will hand us the raw stored value of each
 * top-level DECIMAL column (we format it exactly) and ENUM columns decode as strings, with one
 * finisher per top-level column.
 * @throws UnsupportedError for a DECIMAL nested inside a list, map or struct (it would be lossy)
 */
export function prepareSchema(metadata: FileMetaData, int64: Int64Mode, file: string): {
  metadata: FileMetaData;
  finishers: Map<string, Finisher>;
} {
  const schema: SchemaElement[] = metadata.schema.map((e) => ({ ...e }));
  const finishers = new Map<string, Finisher>();
  const bigints = int64Converter(int64);
  // walk the flat schema: index 0 is the root, children follow their parent depth-first
  let i = 1;
  const walk = (depth: number, top: string | undefined): void => {
    const e = schema[i]!;
    i++;
    const name = top ?? e.name;
    const children = e.num_children ?? 0;
    if (e.converted_type === 'ENUM' || e.logical_type?.type === 'ENUM') {
      e.converted_type = 'UTF8';
      delete e.logical_type;
    }
    if (isDecimal(e)) {
      if (depth > 0) {
        throw new UnsupportedError(`DECIMAL nested in column \`${name}\` is not supported (only top-level decimals are read exactly)`, { file });
      }
      const scale = e.scale ?? (e.logical_type?.type === 'DECIMAL' ? e.logical_type.scale : 0);
      // a corrupt scale (millions) would make every value a string of millions of digits
      if (!Number.isSafeInteger(scale) || Math.abs(scale) > 128) throw new FormatError(`DECIMAL column \`${name}\` has an invalid scale ${String(scale)}`, { file });
      delete e.converted_type;
      delete e.logical_type;
      finishers.set(name, (v) => {
        if (v === null || v === undefined) return null;
        if (typeof v === 'number') return formatDecimal(BigInt(v), scale);
        if (typeof v === 'bigint') return formatDecimal(v, scale);
        if (v instanceof Uint8Array) return formatDecimal(bytesToSignedBigInt(v), scale);
        throw new UnsupportedError(`Unexpected DECIMAL storage in column \`${name}\``, { file });
      });
    } else if (depth === 0 && children === 0) {
      const ann = annotationOf(e);
      const unit = e.logical_type?.type === 'TIME' ? e.logical_type.unit : ann === 'TIME_MILLIS' ? 'MILLIS' : ann === 'TIME_MICROS' ? 'MICROS' : undefined;
      if (unit !== undefined) {
        const perSecond = unit === 'MILLIS' ? 1000n : unit === 'MICROS' ? 1_000_000n : 1_000_000_000n;
        finishers.set(name, (v) => (v === null || v === undefined ? null : formatTime(BigInt(v as number | bigint), perSecond)));
      } else if (e.type === 'INT64') {
        finishers.set(name, bigints);
      }
    } else if (depth === 0) {
      finishers.set(name, bigints);
    }
    for (let c = 0; c < children; c++) walk(depth + 1, name);
  };
  const rootChildren = schema[0]?.num_children ?? 0;
  for (let c = 0; c < rootChildren; c++) walk(0, undefined);
  return { metadata: { ...metadata, schema }, finishers };
}
