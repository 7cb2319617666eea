/**
 * Column kinds of the writer and how each is declared in a Parquet schema (physical type,
 * converted type and logical type), plus the Arrow type -> kind mapping.
 */
import type { DataType } from 'apache-arrow';

/**
 * What a written column holds. The first nine are the declarable {@link ParquetWriteType}s; the
 * others come from Arrow input. `null`: only nulls seen so far (becomes `string` if it stays so).
 */
export type ColumnKind =
  | 'boolean'
  | 'int32'
  | 'int64'
  | 'double'
  | 'string'
  | 'binary'
  | 'timestamp'
  | 'date'
  | 'json'
  | 'int8'
  | 'int16'
  | 'uint8'
  | 'uint16'
  | 'uint32'
  | 'uint64'
  | 'float'
  | 'timestamp_us'
  | 'timestamp_ns'
  | 'decimal'
  | 'time_ms'
  | 'time_us'
  | 'time_ns'
  | 'null';

/** Precision and scale of a `decimal` column (from an Arrow Decimal128). */
export interface DecimalSpec {
  precision: number;
  scale: number;
}

/** How values of a kind are held in memory and written PLAIN. */
export type Storage = 'bool' | 'i32' | 'i64' | 'f32' | 'f64' | 'bytes';

/** Physical type ids. */
export const Physical = { BOOLEAN: 0, INT32: 1, INT64: 2, FLOAT: 4, DOUBLE: 5, BYTE_ARRAY: 6 } as const;

/** Storage of each kind. */
export function storageOf(kind: ColumnKind): Storage {
  switch (kind) {
    case 'boolean':
      return 'bool';
    case 'int8':
    case 'int16':
    case 'int32':
    case 'uint8':
    case 'uint16':
    case 'uint32':
    case 'date':
    case 'time_ms':
      return 'i32';
    case 'int64':
    case 'uint64':
    case 'timestamp':
    case 'timestamp_us':
    case 'timestamp_ns':
    case 'time_us':
    case 'time_ns':
      return 'i64';
    case 'float':
      return 'f32';
    case 'double':
      return 'f64';
    case 'string':
    case 'binary':
    case 'json':
    case 'decimal':
    case 'null':
      return 'bytes';
  }
}

/** Bytes of one value in memory (byte arrays: the 4-byte offset; their bytes are counted apart). */
export function widthOf(storage: Storage): number {
  switch (storage) {
    case 'bool':
      return 1;
    case 'i32':
    case 'f32':
    case 'bytes':
      return 4;
    case 'i64':
    case 'f64':
      return 8;
  }
}

/** True for kinds whose statistics compare unsigned. */
export function isUnsigned(kind: ColumnKind): boolean {
  return kind === 'uint32' || kind === 'uint64' || kind === 'uint8' || kind === 'uint16';
}

/** Logical type of a schema element, in the Thrift union's terms. */
export type Logical =
  | { type: 'STRING' | 'DATE' | 'JSON' }
  | { type: 'INTEGER'; bitWidth: number; signed: boolean }
  | { type: 'TIMESTAMP' | 'TIME'; unit: 'MILLIS' | 'MICROS' | 'NANOS'; utc: boolean };

/** Schema element parts of a kind. */
export interface ElementType {
  physical: number;
  converted?: number;
  logical?: Logical;
}

const CONVERTED = {
  UTF8: 0,
  DATE: 6,
  TIME_MILLIS: 7,
  TIME_MICROS: 8,
  TIMESTAMP_MILLIS: 9,
  TIMESTAMP_MICROS: 10,
  UINT_8: 11,
  UINT_16: 12,
  UINT_32: 13,
  UINT_64: 14,
  INT_8: 15,
  INT_16: 16,
  JSON: 19,
  DECIMAL: 5,
} as const;

/** A TIMESTAMP or TIME element: its physical type, its converted type where one exists, its logical type. */
function temporal(
  type: 'TIMESTAMP' | 'TIME',
  unit: 'MILLIS' | 'MICROS' | 'NANOS',
  utc: boolean,
  physical: number,
  converted?: number,
): ElementType {
  return { physical, ...(converted === undefined ? {} : { converted }), logical: { type, unit, utc } };
}

/** The schema element type of a kind (`null` is written as a string column). */
export function elementType(kind: ColumnKind, local = false): ElementType {
  // a local (wall-clock) timestamp has no converted type: TIMESTAMP_MILLIS/MICROS mean UTC-adjusted
  if (local && (kind === 'timestamp' || kind === 'timestamp_us' || kind === 'timestamp_ns')) {
    const unit = kind === 'timestamp' ? 'MILLIS' : kind === 'timestamp_us' ? 'MICROS' : 'NANOS';
    return temporal('TIMESTAMP', unit, false, Physical.INT64);
  }
  const int = (bitWidth: number, signed: boolean, converted: number, physical: number): ElementType => ({
    physical,
    converted,
    logical: { type: 'INTEGER', bitWidth, signed },
  });
  switch (kind) {
    case 'boolean':
      return { physical: Physical.BOOLEAN };
    case 'int32':
      return { physical: Physical.INT32 };
    case 'int64':
      return { physical: Physical.INT64 };
    case 'int8':
      return int(8, true, CONVERTED.INT_8, Physical.INT32);
    case 'int16':
      return int(16, true, CONVERTED.INT_16, Physical.INT32);
    case 'uint8':
      return int(8, false, CONVERTED.UINT_8, Physical.INT32);
    case 'uint16':
      return int(16, false, CONVERTED.UINT_16, Physical.INT32);
    case 'uint32':
      return int(32, false, CONVERTED.UINT_32, Physical.INT32);
    case 'uint64':
      return int(64, false, CONVERTED.UINT_64, Physical.INT64);
    case 'float':
      return { physical: Physical.FLOAT };
    case 'double':
      return { physical: Physical.DOUBLE };
    case 'string':
    case 'null':
      return { physical: Physical.BYTE_ARRAY, converted: CONVERTED.UTF8, logical: { type: 'STRING' } };
    case 'binary':
      return { physical: Physical.BYTE_ARRAY };
    case 'json':
      return { physical: Physical.BYTE_ARRAY, converted: CONVERTED.JSON, logical: { type: 'JSON' } };
    case 'decimal':
      // big-endian two's complement bytes; scale and precision come from the column (metadata.ts)
      return { physical: Physical.BYTE_ARRAY, converted: CONVERTED.DECIMAL };
    case 'date':
      return { physical: Physical.INT32, converted: CONVERTED.DATE, logical: { type: 'DATE' } };
    case 'timestamp':
      return temporal('TIMESTAMP', 'MILLIS', true, Physical.INT64, CONVERTED.TIMESTAMP_MILLIS);
    case 'timestamp_us':
      return temporal('TIMESTAMP', 'MICROS', true, Physical.INT64, CONVERTED.TIMESTAMP_MICROS);
    case 'timestamp_ns':
      return temporal('TIMESTAMP', 'NANOS', true, Physical.INT64);
    // a time of day, no zone (Arrow Time): as DuckDB writes its TIME, the converted type beside
    case 'time_ms':
      return temporal('TIME', 'MILLIS', false, Physical.INT32, CONVERTED.TIME_MILLIS);
    case 'time_us':
      return temporal('TIME', 'MICROS', false, Physical.INT64, CONVERTED.TIME_MICROS);
    case 'time_ns':
      return temporal('TIME', 'NANOS', false, Physical.INT64);
  }
}

/** Arrow type ids (apache-arrow's `Type`), as numbers so this file needs no runtime import. */
const A = {
  Null: 1,
  Int: 2,
  Float: 3,
  Binary: 4,
  Utf8: 5,
  Bool: 6,
  Date: 8,
  Time: 9,
  Timestamp: 10,
  Decimal: 7,
  LargeBinary: 19,
  LargeUtf8: 20,
  Dictionary: -1,
} as const;

/**
 * True for an Arrow Timestamp without a time zone: a wall-clock time, written as a TIMESTAMP not
 * adjusted to UTC (DuckDB's `TIMESTAMP`, where a zoned one is `TIMESTAMPTZ`). spillway's own
 * Arrow from JS Dates carries `UTC`; a Parquet TIMESTAMP not adjusted to UTC is read without one.
 */
export function isLocalTimestamp(type: DataType): boolean {
  const t = type as DataType & { timezone?: string | null };
  return (
    (type.typeId as number) === A.Timestamp && (t.timezone === null || t.timezone === undefined || t.timezone === '')
  );
}

/** Precision and scale of an Arrow Decimal type the writer writes (Decimal128 or Decimal256), else undefined. */
export function decimalOfArrow(type: DataType): DecimalSpec | undefined {
  const t = type as DataType & { precision?: number; scale?: number; bitWidth?: number };
  if ((type.typeId as number) !== A.Decimal || ![32, 64, 128, 256].includes(t.bitWidth!)) return undefined;
  // Parquet's DECIMAL holds 0 <= scale <= precision: a file with a negative scale (Arrow allows
  // one) was written, and DuckDB and pyarrow refused to read it
  if (t.scale! < 0 || t.scale! > t.precision!) return undefined;
  return { precision: t.precision!, scale: t.scale! };
}

/**
 * The kind an Arrow column of `type` is written as, or undefined when the writer cannot write it
 * (interval, duration, union, ...). Dictionaries of strings are written as strings.
 */
export function kindOfArrow(type: DataType): ColumnKind | undefined {
  const t = type as DataType & {
    bitWidth?: number;
    isSigned?: boolean;
    precision?: number;
    unit?: number;
    dictionary?: DataType;
  };
  switch (type.typeId as number) {
    case A.Null:
      return 'null';
    case A.Bool:
      return 'boolean';
    case A.Int:
      if (t.isSigned)
        return t.bitWidth === 8 ? 'int8' : t.bitWidth === 16 ? 'int16' : t.bitWidth === 32 ? 'int32' : 'int64';
      return t.bitWidth === 8 ? 'uint8' : t.bitWidth === 16 ? 'uint16' : t.bitWidth === 32 ? 'uint32' : 'uint64';
    case A.Float:
      return t.precision === 1 ? 'float' : t.precision === 2 ? 'double' : undefined;
    case A.Utf8:
    case A.LargeUtf8:
      return 'string';
    case A.Binary:
    case A.LargeBinary:
      return 'binary';
    case A.Date:
      return 'date';
    case A.Timestamp:
      return t.unit === 2 ? 'timestamp_us' : t.unit === 3 ? 'timestamp_ns' : 'timestamp';
    case A.Time:
      // seconds are written as milliseconds (Parquet's TIME has no seconds unit)
      return t.unit === 2 ? 'time_us' : t.unit === 3 ? 'time_ns' : 'time_ms';
    case A.Decimal:
      return decimalOfArrow(type) === undefined ? undefined : 'decimal';
    case A.Dictionary:
      return t.dictionary !== undefined && (t.dictionary.typeId as number) === A.Utf8 ? 'string' : undefined;
    default:
      return undefined;
  }
}
