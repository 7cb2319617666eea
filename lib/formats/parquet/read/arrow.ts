/**
 * Decoded Parquet columns -> Arrow, without row objects. The Arrow types follow the JavaScript
 * mapping of `types.ts`:
 *
 * | Parquet                                   | Arrow                                                  |
 * |-------------------------------------------|--------------------------------------------------------|
 * | BOOLEAN / FLOAT / DOUBLE                  | Bool / Float32 / Float64                               |
 * | INT32, INT64 (INT/UINT annotations)       | Int8..Int64, Uint8..Uint64 (Int64 whatever `int64` says) |
 * | FLOAT16                                   | Float32                                                |
 * | DECIMAL                                   | Decimal128 (Decimal256 above 38 digits), exact         |
 * | TIMESTAMP MILLIS/MICROS/NANOS             | Timestamp in that unit (`UTC` when adjusted to UTC)     |
 * | INT96                                     | Timestamp nanoseconds                                  |
 * | DATE / TIME                               | DateDay / Time in its unit (Utf8 `...+00` when UTC-adjusted) |
 * | UTF8/STRING/ENUM, UUID                    | Utf8                                                   |
 * | JSON                                      | Utf8 with field metadata `spillway.json` (rows parse it) |
 * | other BYTE_ARRAY / FIXED_LEN_BYTE_ARRAY   | Binary                                                 |
 * | LIST / MAP / struct, GEOMETRY             | Utf8 JSON of the row value, metadata `spillway.json`   |
 *
 * Raw physical values are decoded for the native types (no Date or string per value): a
 * required column's typed array becomes the Arrow buffer as it is.
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
  RecordBatch,
  Schema,
  Struct,
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
  makeData,
} from 'apache-arrow';
import type { Data, DataType } from 'apache-arrow';
import type { DecodedArray, ParquetParsers, SchemaElement, SchemaTree } from 'hyparquet';
import { JSON_METADATA_KEY } from '../../arrow/convert.ts';
import { isUtf8 } from 'node:buffer';
import { FormatError, UnsupportedError } from '../../../core/errors.ts';
import { formatTime } from './values.ts';
import type { InvalidUtf8 } from './values.ts';

/** How one top-level column becomes Arrow. */
export interface ArrowColumnPlan {
  readonly field: Field;
  /** Decode the leaf with this element (annotations removed) and parsers, to get raw values. */
  readonly raw?: { element: SchemaElement; parsers?: Partial<ParquetParsers> };
  /** Builds the column from `n` decoded values (`finish` maps a value as the rows path does). */
  build(values: DecodedArray, n: number): Data;
}

type Typed = Exclude<DecodedArray, unknown[]> | Int8Array | Int16Array | Uint16Array;
type TypedCtor = new (n: number | ArrayBufferLike, offset?: number, length?: number) => Typed;

const encoder = new TextEncoder();
/** Byte-array annotations hyparquet converts (or rejects) itself. */
const CONVERTED = new Set(['BSON', 'INTERVAL', 'GEOMETRY', 'GEOGRAPHY', 'VARIANT']);

function validity(values: DecodedArray, n: number): { bitmap: Uint8Array | undefined; nullCount: number } {
  if (!Array.isArray(values)) return { bitmap: undefined, nullCount: 0 };
  let nullCount = 0;
  for (let i = 0; i < n; i++) if (values[i] === null || values[i] === undefined) nullCount++;
  if (nullCount === 0) return { bitmap: undefined, nullCount };
  const bitmap = new Uint8Array(((n + 63) >> 6) << 3);
  for (let i = 0; i < n; i++) if (values[i] !== null && values[i] !== undefined) bitmap[i >> 3]! |= 1 << (i & 7);
  return { bitmap, nullCount };
}

function fixed(type: DataType, Ctor: TypedCtor, values: DecodedArray, n: number): Data {
  const bigint = Ctor === (BigInt64Array as unknown) || Ctor === (BigUint64Array as unknown);
  if (!Array.isArray(values)) {
    let data: Typed;
    if (values instanceof Ctor) data = values;
    else if (
      values.BYTES_PER_ELEMENT === new Ctor(0).BYTES_PER_ELEMENT &&
      (values instanceof BigInt64Array || values instanceof BigUint64Array) === bigint
    ) {
      data = new Ctor(values.buffer, values.byteOffset, values.length); // same bits, other signedness
    } else if (!bigint && !(values instanceof BigInt64Array || values instanceof BigUint64Array)) {
      data = new Ctor(values.length);
      (data as Float64Array).set(values as Float64Array);
    } else {
      data = new Ctor(n);
      for (let i = 0; i < n; i++)
        (data as unknown as unknown[])[i] = bigint ? BigInt(values[i] as number) : Number(values[i]);
    }
    return makeData({ type, length: n, nullCount: 0, data } as never);
  }
  const { bitmap, nullCount } = validity(values, n);
  const data = new Ctor(n) as unknown as unknown[];
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (v === null || v === undefined) continue;
    data[i] = bigint ? (typeof v === 'bigint' ? v : BigInt(v as number)) : typeof v === 'bigint' ? Number(v) : v;
  }
  return makeData({ type, length: n, nullCount, nullBitmap: bitmap, data } as never);
}

function bool(values: DecodedArray, n: number): Data {
  const { bitmap, nullCount } = validity(values, n);
  const bits = new Uint8Array(((n + 63) >> 6) << 3);
  for (let i = 0; i < n; i++) if (values[i] === true) bits[i >> 3]! |= 1 << (i & 7);
  return makeData({ type: new Bool(), length: n, nullCount, nullBitmap: bitmap, data: bits } as never);
}

/** Utf8 or Binary from byte arrays (copied once into one buffer) or strings. */
function varBinary(type: Utf8 | Binary, values: DecodedArray, n: number): Data {
  const { bitmap, nullCount } = validity(values, n);
  const parts = new Array<Uint8Array | undefined>(n);
  let total = 0;
  for (let i = 0; i < n; i++) {
    const v = values[i] as unknown;
    if (v === null || v === undefined) continue;
    const bytes = typeof v === 'string' ? encoder.encode(v) : (v as Uint8Array);
    parts[i] = bytes;
    total += bytes.length;
  }
  if (total > 0x7fffffff)
    throw new UnsupportedError(
      `A Parquet column holds more than 2 GiB of bytes in one batch; use a smaller batchSize`,
      {},
    );
  const offsets = new Int32Array(n + 1);
  const data = new Uint8Array(total);
  let at = 0;
  for (let i = 0; i < n; i++) {
    const bytes = parts[i];
    if (bytes) {
      const len = bytes.length;
      if (len < 16) for (let k = 0; k < len; k++) data[at + k] = bytes[k]!;
      else data.set(bytes, at);
      at += len;
    }
    offsets[i + 1] = at;
  }
  return makeData({ type, length: n, nullCount, nullBitmap: bitmap, valueOffsets: offsets, data } as never);
}

/** Utf8 from decoded byte arrays, refusing (or replacing) invalid UTF-8 as the rows path does. */
function utf8(values: DecodedArray, n: number, column: string, mode: InvalidUtf8, file: string): Data {
  const data = varBinary(new Utf8(), values, n);
  const bytes = data.values as Uint8Array;
  if (isUtf8(bytes)) return data;
  if (mode === 'replace') {
    const decoder = new TextDecoder('utf-8');
    const text = new Array<string | null>(n);
    for (let i = 0; i < n; i++) {
      const v = values[i] as unknown;
      text[i] = v === null || v === undefined ? null : typeof v === 'string' ? v : decoder.decode(v as Uint8Array);
    }
    return varBinary(new Utf8(), text, n);
  }
  throw new FormatError(
    `Invalid UTF-8 in string column \`${column}\`; open with invalidUtf8: 'replace' to read it with U+FFFD`,
    { file },
  );
}

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

function bytesToBigInt(bytes: Uint8Array): bigint {
  let v = 0n;
  for (const b of bytes) v = (v << 8n) | BigInt(b);
  if (bytes.length > 0 && (bytes[0]! & 0x80) !== 0) v -= 1n << BigInt(bytes.length * 8);
  return v;
}

function decimal(type: Decimal, values: DecodedArray, n: number): Data {
  const { bitmap, nullCount } = validity(values, n);
  const stride = type.bitWidth / 32;
  const words = new Uint32Array(n * stride);
  for (let i = 0; i < n; i++) {
    const v = values[i] as unknown;
    if (v === null || v === undefined) continue;
    if (typeof v === 'number') {
      words[i * stride] = v >>> 0;
      if (v < 0) words.fill(0xffffffff, i * stride + 1, (i + 1) * stride);
      continue;
    }
    const big = typeof v === 'bigint' ? v : bytesToBigInt(v as Uint8Array);
    for (let w = 0; w < stride; w++) words[i * stride + w] = Number(BigInt.asUintN(32, big >> BigInt(32 * w)));
  }
  return makeData({ type, length: n, nullCount, nullBitmap: bitmap, data: words } as never);
}

function jsonReplacer(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString();
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  return value;
}

function annotation(e: SchemaElement): string | undefined {
  return e.logical_type?.type ?? e.converted_type;
}

function strip(e: SchemaElement): SchemaElement {
  const out = { ...e };
  delete out.converted_type;
  delete out.logical_type;
  return out;
}

/**
 * Plans the Arrow column of top-level schema node `node` (from the file's own metadata).
 * @param decodedElement the element the rows path decodes with (raw plans start from it)
 * @param finish the rows path's finisher for this column (nested values go through it)
 */
export function planArrowColumn(
  node: SchemaTree,
  decodedElement: SchemaElement,
  finish: ((v: unknown, column: string) => unknown) | undefined,
  invalidUtf8: InvalidUtf8 = 'error',
  file = '',
): ArrowColumnPlan {
  const e = node.element;
  const name = e.name;
  const nullable = e.repetition_type !== 'REQUIRED';
  const field = (type: DataType, json = false): Field =>
    new Field(name, type, nullable, json ? new Map([[JSON_METADATA_KEY, 'true']]) : null);
  const raw = { element: strip(decodedElement) };
  const plain = (type: DataType, Ctor: TypedCtor, keep = false): ArrowColumnPlan => ({
    field: field(type),
    ...(keep ? {} : { raw }),
    build: (v, n) => fixed(type, Ctor, v, n),
  });
  const jsonPlan = (): ArrowColumnPlan => ({
    field: field(new Utf8(), true),
    build: (values, n) => {
      const text = new Array<string | null>(n);
      for (let i = 0; i < n; i++) {
        const v = finish ? finish(values[i], name) : values[i];
        text[i] = v === null || v === undefined ? null : JSON.stringify(v, jsonReplacer);
      }
      return varBinary(new Utf8(), text, n);
    },
  });
  if (node.children.length > 0 || e.repetition_type === 'REPEATED') return jsonPlan();
  const ann = annotation(e);
  const lt = e.logical_type;
  if (ann === 'DECIMAL') {
    const precision = e.precision ?? (lt?.type === 'DECIMAL' ? lt.precision : 38);
    const scale = e.scale ?? (lt?.type === 'DECIMAL' ? lt.scale : 0);
    const type = new Decimal(scale, precision, precision > 38 ? 256 : 128);
    return { field: field(type), raw, build: (v, n) => decimal(type, v, n) };
  }
  // Arrow has no time with a zone: the rows path's text (`12:34:56.789+00`, as DuckDB prints TIMETZ)
  if (lt?.type === 'TIME' && lt.isAdjustedToUTC) {
    return {
      field: field(new Utf8()),
      build: (v, n) => varBinary(new Utf8(), finish ? Array.from({ length: n }, (_, i) => finish(v[i], name)) : v, n),
    };
  }
  switch (e.type) {
    case 'BOOLEAN':
      return { field: field(new Bool()), build: bool };
    case 'FLOAT':
      return plain(new Float32(), Float32Array);
    case 'DOUBLE':
      return plain(new Float64(), Float64Array);
    case 'INT96': {
      // hyparquet turns INT96 into nanoseconds then calls this parser: keep the bigint
      const type = new Timestamp(TimeUnit.NANOSECOND, null);
      const fits = (nanos: bigint): bigint => {
        if (nanos !== BigInt.asIntN(64, nanos)) {
          throw new UnsupportedError(
            `INT96 timestamp of column \`${name}\` is beyond the range of Arrow nanosecond timestamps (years 1677-2262); read it with output 'rows'`,
            {},
          );
        }
        return nanos;
      };
      return {
        field: field(type),
        raw: { element: decodedElement, parsers: { timestampFromNanoseconds: fits } },
        build: (v, n) => fixed(type, BigInt64Array, v, n),
      };
    }
    case 'INT32': {
      if (ann === 'DATE') return plain(new DateDay(), Int32Array);
      if (ann === 'TIME' || ann === 'TIME_MILLIS')
        return timePlan(plain(new TimeMillisecond(), Int32Array), 1000n, name, file);
      const bits =
        lt?.type === 'INTEGER'
          ? lt.bitWidth
          : ann?.startsWith('INT_') || ann?.startsWith('UINT_')
            ? Number(ann.split('_')[1])
            : 32;
      const signed = lt?.type === 'INTEGER' ? lt.isSigned : !ann?.startsWith('UINT_');
      if (bits === 8) return signed ? plain(new Int8(), Int8Array) : plain(new Uint8(), Uint8Array);
      if (bits === 16) return signed ? plain(new Int16(), Int16Array) : plain(new Uint16(), Uint16Array);
      return signed ? plain(new Int32(), Int32Array) : plain(new Uint32(), Uint32Array);
    }
    case 'INT64': {
      if (ann === 'TIMESTAMP' || ann === 'TIMESTAMP_MILLIS' || ann === 'TIMESTAMP_MICROS') {
        const unit = lt?.type === 'TIMESTAMP' ? lt.unit : ann === 'TIMESTAMP_MILLIS' ? 'MILLIS' : 'MICROS';
        const utc = lt?.type === 'TIMESTAMP' ? lt.isAdjustedToUTC : true;
        const arrowUnit =
          unit === 'MILLIS' ? TimeUnit.MILLISECOND : unit === 'MICROS' ? TimeUnit.MICROSECOND : TimeUnit.NANOSECOND;
        return plain(new Timestamp(arrowUnit, utc ? 'UTC' : null), BigInt64Array);
      }
      if (ann === 'TIME' || ann === 'TIME_MICROS') {
        const unit = lt?.type === 'TIME' ? lt.unit : 'MICROS';
        if (unit === 'MILLIS') return timePlan(plain(new TimeMillisecond(), Int32Array), 1000n, name, file);
        return unit === 'NANOS'
          ? timePlan(plain(new TimeNanosecond(), BigInt64Array), 1_000_000_000n, name, file)
          : timePlan(plain(new TimeMicrosecond(), BigInt64Array), 1_000_000n, name, file);
      }
      const unsigned = ann === 'UINT_64' || (lt?.type === 'INTEGER' && !lt.isSigned);
      return unsigned ? plain(new Uint64(), BigUint64Array) : plain(new Int64(), BigInt64Array);
    }
    case 'BYTE_ARRAY':
    case 'FIXED_LEN_BYTE_ARRAY': {
      if (ann === 'UTF8' || ann === 'STRING' || ann === 'ENUM')
        return { field: field(new Utf8()), raw, build: (v, n) => utf8(v, n, name, invalidUtf8, file) };
      if (ann === 'JSON')
        return { field: field(new Utf8(), true), raw, build: (v, n) => utf8(v, n, name, invalidUtf8, file) };
      if (ann === 'UUID') return { field: field(new Utf8()), build: (v, n) => varBinary(new Utf8(), v, n) };
      if (ann === 'FLOAT16') return plain(new Float32(), Float32Array, true);
      if (ann === undefined || !CONVERTED.has(ann))
        return { field: field(new Binary()), raw, build: (v, n) => varBinary(new Binary(), v, n) };
      // BSON, INTERVAL, GEOMETRY...: what the rows path gives, as JSON (or its error)
      return jsonPlan();
    }
    default:
      return jsonPlan();
  }
}

/** Assembles one RecordBatch from built columns. */
export function makeRecordBatch(fields: readonly Field[], children: Data[], n: number): RecordBatch {
  const schema = new Schema([...fields]);
  return new RecordBatch(schema, makeData({ type: new Struct(schema.fields), length: n, nullCount: 0, children }));
}
