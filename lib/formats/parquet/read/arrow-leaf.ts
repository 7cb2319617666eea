/**
 * The Arrow plan of one Parquet leaf (a top-level flat column, or a leaf inside a list, struct or
 * map): its Arrow type and how it is built from the values decoded for it. Types follow the table
 * of `arrow.ts`; raw plans decode the leaf without its annotations (unscaled decimals, timestamp
 * units, days), so no Date or string is made per value.
 */
import {
  Binary,
  Bool,
  DateDay,
  Decimal,
  Field,
  Float32,
  Float64,
  Int8,
  Int16,
  Int32,
  Int64,
  TimeMicrosecond,
  TimeMillisecond,
  TimeNanosecond,
  Timestamp,
  TimeUnit,
  Uint8,
  Uint16,
  Uint32,
  Uint64,
  Utf8,
} from 'apache-arrow';
import type { Data, DataType } from 'apache-arrow';
import type { DecodedArray, ParquetParsers, SchemaElement } from 'hyparquet';
import { JSON_METADATA_KEY } from '../../arrow/convert.ts';
import { ArrowRangeError } from './arrow-range.ts';
import { bool, decimal, fixed, utf8, varBinary } from './arrow-build.ts';
import type { TypedCtor } from './arrow-build.ts';
import { exactJsonText } from './arrow-json.ts';
import { annotationOf, formatTime } from './values.ts';
import type { InvalidUtf8 } from './values.ts';

/** How a leaf is decoded for Arrow: its schema element (annotations removed) and parsers. */
export interface RawDecode {
  element: SchemaElement;
  parsers?: Partial<ParquetParsers>;
}

/** How one top-level column becomes Arrow. */
export interface ArrowColumnPlan {
  readonly field: Field;
  /** Decode the leaf with this element (annotations removed) and parsers, to get raw values. */
  readonly raw?: RawDecode;
  /** The same for the leaves of a nested column, by dotted path. */
  readonly rawLeaves?: ReadonlyMap<string, RawDecode>;
  /** Builds the column from `n` decoded values (`finish` maps a value as the rows path does). */
  build(values: DecodedArray, n: number): Data;
}

/** What a leaf plan needs to know besides its element. */
export interface LeafContext {
  /** Column name in messages (dotted inside nested values). */
  readonly name: string;
  /** The Arrow field's name. */
  readonly field: string;
  readonly nullable: boolean;
  /** The rows path's converter of the value (used for UTC-adjusted TIME and JSON-like types). */
  readonly finish: ((v: unknown) => unknown) | undefined;
  readonly invalidUtf8: InvalidUtf8;
  readonly file: string;
}

/** Byte-array annotations hyparquet converts (or rejects) itself. */
const CONVERTED = new Set(['BSON', 'INTERVAL', 'GEOMETRY', 'GEOGRAPHY', 'VARIANT']);

/** Checks every TIME value of a batch for the 00:00:00..24:00:00 range before it becomes Arrow. */
function timePlan(plan: ArrowColumnPlan, perSecond: bigint, column: string, file: string): ArrowColumnPlan {
  const max = 86_400n * perSecond;
  return {
    ...plan,
    build: (values, n) => {
      for (let i = 0; i < n; i++) {
        const v = values[i];
        if (v === null || v === undefined) continue;
        const b = BigInt(v as number | bigint);
        if (b < 0n || b > max) formatTime(b, perSecond, column, file); // throws the rows path's error
      }
      return plan.build(values, n);
    },
  };
}

function strip(e: SchemaElement): SchemaElement {
  const out = { ...e };
  delete out.converted_type;
  delete out.logical_type;
  return out;
}

/** A field of `c` with `type` (metadata `spillway.json` when the text is JSON). */
function fieldOf(c: LeafContext, type: DataType, json = false): Field {
  return new Field(c.field, type, c.nullable, json ? new Map([[JSON_METADATA_KEY, 'true']]) : null);
}

/** Utf8 JSON of the rows path's value, refused when JSON text would not give that value back. */
export function jsonPlan(c: LeafContext): ArrowColumnPlan {
  return {
    field: fieldOf(c, new Utf8(), true),
    build: (values, n) => {
      const text = new Array<string | null>(n);
      for (let i = 0; i < n; i++) {
        const v = c.finish ? c.finish(values[i]) : values[i];
        text[i] = v === null || v === undefined ? null : exactJsonText(v, c.name, c.file);
      }
      return varBinary(new Utf8(), text, n);
    },
  };
}

/** A fixed-width plan from raw values (`keep`: decode with the annotations, hyparquet's value). */
function plainPlan(c: LeafContext, raw: RawDecode, type: DataType, Ctor: TypedCtor, keep = false): ArrowColumnPlan {
  return { field: fieldOf(c, type), ...(keep ? {} : { raw }), build: (v, n) => fixed(type, Ctor, v, n) };
}

function decimalPlan(c: LeafContext, e: SchemaElement, raw: RawDecode): ArrowColumnPlan {
  const lt = e.logical_type;
  const precision = e.precision ?? (lt?.type === 'DECIMAL' ? lt.precision : 38);
  const scale = e.scale ?? (lt?.type === 'DECIMAL' ? lt.scale : 0);
  const type = new Decimal(scale, precision, precision > 38 ? 256 : 128);
  return { field: fieldOf(c, type), raw, build: (v, n) => decimal(type, v, n) };
}

function int96Plan(c: LeafContext, decoded: SchemaElement): ArrowColumnPlan {
  // hyparquet turns INT96 into nanoseconds then calls this parser: keep the bigint
  const type = new Timestamp(TimeUnit.NANOSECOND, null);
  const fits = (nanos: bigint): bigint => {
    if (nanos !== BigInt.asIntN(64, nanos)) {
      throw new ArrowRangeError(
        `INT96 timestamp of column \`${c.name}\` is beyond the range of Arrow nanosecond timestamps (years 1677-2262); read it with output 'rows'`,
        {},
      );
    }
    return nanos;
  };
  return {
    field: fieldOf(c, type),
    raw: { element: decoded, parsers: { timestampFromNanoseconds: fits } },
    build: (v, n) => fixed(type, BigInt64Array, v, n),
  };
}

function int32Plan(c: LeafContext, e: SchemaElement, raw: RawDecode): ArrowColumnPlan {
  const ann = annotationOf(e);
  const lt = e.logical_type;
  if (ann === 'DATE') return plainPlan(c, raw, new DateDay(), Int32Array);
  if (ann === 'TIME' || ann === 'TIME_MILLIS')
    return timePlan(plainPlan(c, raw, new TimeMillisecond(), Int32Array), 1000n, c.name, c.file);
  const bits =
    lt?.type === 'INTEGER'
      ? lt.bitWidth
      : ann?.startsWith('INT_') || ann?.startsWith('UINT_')
        ? Number(ann.split('_')[1])
        : 32;
  const signed = lt?.type === 'INTEGER' ? lt.isSigned : !ann?.startsWith('UINT_');
  if (bits === 8) return signed ? plainPlan(c, raw, new Int8(), Int8Array) : plainPlan(c, raw, new Uint8(), Uint8Array);
  if (bits === 16)
    return signed ? plainPlan(c, raw, new Int16(), Int16Array) : plainPlan(c, raw, new Uint16(), Uint16Array);
  return signed ? plainPlan(c, raw, new Int32(), Int32Array) : plainPlan(c, raw, new Uint32(), Uint32Array);
}

function int64Plan(c: LeafContext, e: SchemaElement, raw: RawDecode): ArrowColumnPlan {
  const ann = annotationOf(e);
  const lt = e.logical_type;
  if (ann === 'TIMESTAMP' || ann === 'TIMESTAMP_MILLIS' || ann === 'TIMESTAMP_MICROS') {
    const unit = lt?.type === 'TIMESTAMP' ? lt.unit : ann === 'TIMESTAMP_MILLIS' ? 'MILLIS' : 'MICROS';
    const utc = lt?.type === 'TIMESTAMP' ? lt.isAdjustedToUTC : true;
    const arrowUnit =
      unit === 'MILLIS' ? TimeUnit.MILLISECOND : unit === 'MICROS' ? TimeUnit.MICROSECOND : TimeUnit.NANOSECOND;
    return plainPlan(c, raw, new Timestamp(arrowUnit, utc ? 'UTC' : null), BigInt64Array);
  }
  if (ann === 'TIME' || ann === 'TIME_MICROS') {
    const unit = lt?.type === 'TIME' ? lt.unit : 'MICROS';
    if (unit === 'MILLIS') return timePlan(plainPlan(c, raw, new TimeMillisecond(), Int32Array), 1000n, c.name, c.file);
    return unit === 'NANOS'
      ? timePlan(plainPlan(c, raw, new TimeNanosecond(), BigInt64Array), 1_000_000_000n, c.name, c.file)
      : timePlan(plainPlan(c, raw, new TimeMicrosecond(), BigInt64Array), 1_000_000n, c.name, c.file);
  }
  const unsigned = ann === 'UINT_64' || (lt?.type === 'INTEGER' && !lt.isSigned);
  return unsigned ? plainPlan(c, raw, new Uint64(), BigUint64Array) : plainPlan(c, raw, new Int64(), BigInt64Array);
}

function bytesPlan(c: LeafContext, e: SchemaElement, raw: RawDecode): ArrowColumnPlan {
  const ann = annotationOf(e);
  const text = (json: boolean): ArrowColumnPlan => ({
    field: fieldOf(c, new Utf8(), json),
    raw,
    build: (v, n) => utf8(new Utf8(), v, n, c.name, c.invalidUtf8, c.file),
  });
  if (ann === 'UTF8' || ann === 'STRING' || ann === 'ENUM') return text(false);
  if (ann === 'JSON') return text(true);
  if (ann === 'UUID') return { field: fieldOf(c, new Utf8()), build: (v, n) => varBinary(new Utf8(), v, n) };
  if (ann === 'FLOAT16') return plainPlan(c, raw, new Float32(), Float32Array, true);
  if (ann === undefined || !CONVERTED.has(ann))
    return { field: fieldOf(c, new Binary()), raw, build: (v, n) => varBinary(new Binary(), v, n) };
  // BSON, INTERVAL, GEOMETRY...: what the rows path gives, as JSON (or its error)
  return jsonPlan(c);
}

/**
 * Plans the Arrow column of a leaf `e` (annotated, as in the file).
 * @param decodedElement the element the rows path decodes the leaf with (raw plans start from it)
 */
export function planArrowLeaf(e: SchemaElement, decodedElement: SchemaElement, c: LeafContext): ArrowColumnPlan {
  const ann = annotationOf(e);
  const raw = { element: strip(decodedElement) };
  if (ann === 'DECIMAL') return decimalPlan(c, e, raw);
  // Arrow has no time with a zone: the rows path's text (`12:34:56.789+00`, as DuckDB prints TIMETZ)
  if (e.logical_type?.type === 'TIME' && e.logical_type.isAdjustedToUTC) {
    const finish = c.finish ?? ((v: unknown) => v);
    return {
      field: fieldOf(c, new Utf8()),
      build: (v, n) => varBinary(new Utf8(), Array.from({ length: n }, (_, i) => finish(v[i])) as DecodedArray, n),
    };
  }
  switch (e.type) {
    case 'BOOLEAN':
      return { field: fieldOf(c, new Bool()), build: bool };
    case 'FLOAT':
      return plainPlan(c, raw, new Float32(), Float32Array);
    case 'DOUBLE':
      return plainPlan(c, raw, new Float64(), Float64Array);
    case 'INT96':
      return int96Plan(c, decodedElement);
    case 'INT32':
      return int32Plan(c, e, raw);
    case 'INT64':
      return int64Plan(c, e, raw);
    case 'BYTE_ARRAY':
    case 'FIXED_LEN_BYTE_ARRAY':
      return bytesPlan(c, e, raw);
    default:
      return jsonPlan(c);
  }
}
