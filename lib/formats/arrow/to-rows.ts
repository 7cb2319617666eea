/**
 * Arrow -> rows: every type apache-arrow 21 decodes, read from the buffers directly (its `get()`
 * loses precision on decimals and nanosecond timestamps); also per-column value readers for row views.
 */
import {
  type Data,
  type DataType,
  type Float64,
  type Int64,
  type RecordBatch,
  type Struct,
  type TimestampMillisecond,
  Type,
  makeVector,
  type Vector,
} from 'apache-arrow';
import { UnsupportedError, FormatError } from '../../core/errors.ts';
import { PreciseDate, isoString } from '../values.ts';
import type { Int64Mode } from '../values.ts';
import type { Row } from '../../core/row.ts';
import { columnsRowMaker } from '../../core/row-literal.ts';
import { JSON_METADATA_KEY } from './infer.ts';
import { decimalText } from './decimal.ts';
import { ROWS_METADATA_KEY } from './infer.ts';
import { int64ModeOf } from './metadata-keys.ts';
import { parseJsonExact } from '../json/lines.ts';
import { INTERN_MAX, InternProbe, InternTable } from '../text-intern.ts';

/** Options of {@link recordBatchToRows}. */
export interface ToRowsOptions {
  /**
   * 64-bit integers: `auto` (default) gives a number when it is a safe integer and a bigint
   * otherwise; `bigint` always bigint; `number` always number, throwing on an unsafe value.
   */
  int64?: Int64Mode;
  /**
   * Timestamps and dates: `date` (default) gives `Date` (a `PreciseDate` for micro- and
   * nanosecond units: `getTime()` floored to the millisecond, `nanos` and `toISOString()` keep the
   * digits below it); `string` gives ISO-8601 strings with every
   * digit of the unit (`2024-01-01T20:34:56.123456Z`, dates as `YYYY-MM-DD`).
   */
  timestamps?: 'date' | 'string';
  /** Force object rows (`object`) or array rows (`array`); default: what the schema says. */
  shape?: 'object' | 'array';
  /** Only these rows (indices into the batch, in this order): no column is copied to select them. */
  selection?: ArrayLike<number>;
}

interface Resolved {
  int64: Int64Mode;
  timestamps: 'date' | 'string';
}

function int64Out(v: bigint, mode: Int64Mode, column: string): number | bigint {
  if (mode === 'bigint') return v;
  const safe = v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= BigInt(Number.MIN_SAFE_INTEGER);
  if (safe) return Number(v);
  if (mode === 'number')
    throw new UnsupportedError(
      `Column "${column}" holds ${v}, beyond Number.MAX_SAFE_INTEGER; read it with int64: 'bigint' or 'auto'`,
      {},
    );
  return v;
}

function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b !== 0n && a < 0n !== b < 0n ? q - 1n : q;
}

const UNIT_PER_SECOND = [1n, 1000n, 1000000n, 1000000000n];
const UNIT_DIGITS = [0, 3, 6, 9];
const MAX_DATE_MS = 8_640_000_000_000_000n;

function msToDate(ms: bigint, column: string): Date {
  if (ms > MAX_DATE_MS || ms < -MAX_DATE_MS)
    throw new UnsupportedError(`Column "${column}" holds a time outside the range of a JS Date`, {});
  return new Date(Number(ms));
}

/** A Date from milliseconds held in a double (exact within the Date range, which is checked). */
function numberMsToDate(ms: number, column: string): Date {
  if (ms > 8.64e15 || ms < -8.64e15)
    throw new UnsupportedError(`Column "${column}" holds a time outside the range of a JS Date`, {});
  return new Date(ms);
}

function timestampOut(v: bigint, unit: number, r: Resolved, column: string): Date | string {
  const perSecond = UNIT_PER_SECOND[unit]!;
  const ms = unit === 0 ? v * 1000n : floorDiv(v, perSecond / 1000n);
  const date = msToDate(ms, column);
  const sub = unit <= 1 ? 0n : v - ms * (perSecond / 1000n);
  // micro- and nanosecond units keep their digits below the millisecond, as fromParquet's rows do
  if (r.timestamps === 'date')
    return unit <= 1 ? date : new PreciseDate(Number(ms), Number(sub * (1_000_000_000n / perSecond)));
  const iso = isoString(date);
  if (sub === 0n) return iso;
  return `${iso.slice(0, -1)}${sub.toString().padStart(UNIT_DIGITS[unit]! - 3, '0')}Z`;
}

/**
 * `HH:MM:SS[.fraction]`, trailing zeros of the fraction dropped: the text fromParquet's rows give
 * for the same TIME, so `batch.rows` of an Arrow batch and the rows path agree digit for digit.
 * @throws FormatError for a value outside 00:00:00..24:00:00 (Arrow times are times of day)
 */
function timeOfDay(v: bigint, unit: number, column: string): string {
  const perSecond = UNIT_PER_SECOND[unit]!;
  if (v < 0n || v > 86_400n * perSecond)
    throw new FormatError(`Arrow Time value ${v} of column "${column}" is outside 00:00:00..24:00:00`, {});
  const seconds = v / perSecond;
  const frac = v - seconds * perSecond;
  const s = Number(seconds);
  const hms = [Math.floor(s / 3600), Math.floor((s % 3600) / 60), s % 60]
    .map((n) => String(n).padStart(2, '0'))
    .join(':');
  return frac === 0n ? hms : `${hms}.${frac.toString().padStart(UNIT_DIGITS[unit]!, '0').replace(/0+$/, '')}`;
}

/** Reads value `i` (0-based in its Data) as {@link recordBatchToRows} would give it; null when not valid. */
export type ValueReader = (i: number) => unknown;

/**
 * A reader of the values of one Arrow Data, with the same rules as {@link recordBatchToRows}
 * (options default alike). Row views read columns through it; nested columns (lists, structs,
 * maps, unions, dictionaries) decode their children once, on first read.
 */
export function valueReader(data: Data, options: ToRowsOptions = {}, column = ''): ValueReader {
  return readerOf(data, { int64: options.int64 ?? 'auto', timestamps: options.timestamps ?? 'date' }, column);
}

interface NativeSlices {
  utf8Slice(start: number, end: number): string;
}

/** Every value of `data` (or those at `selection`), decoded. */
export function dataToValues(data: Data, r: Resolved, column: string, selection?: ArrayLike<number>): unknown[] {
  const read = readerOf(data, r, column);
  if (selection !== undefined) {
    const out = new Array<unknown>(selection.length);
    for (let j = 0; j < out.length; j++) out[j] = read(selection[j]!);
    return out;
  }
  const out = new Array<unknown>(data.length);
  for (let i = 0; i < out.length; i++) out[i] = read(i);
  return out;
}

/**
 * The strings rows are made of, shared by every column and batch converted in this thread: at most
 * 4096 strings of up to 16 bytes stay referenced (text-intern.ts).
 */
const INTERNED = new InternTable();

/** Reads a Utf8 column's values, short repeated ones interned (text-intern.ts). */
function textReader(text: Buffer, offsets: ArrayLike<number | bigint>): ValueReader {
  const slices = text as unknown as NativeSlices;
  const probe = new InternProbe();
  return (i) => {
    const s = Number(offsets[i]);
    const e = Number(offsets[i + 1]);
    if (probe.active && e - s <= INTERN_MAX) {
      const interned = INTERNED.ascii(text, s, e);
      if (interned !== undefined) {
        probe.count(INTERNED.hit);
        return interned;
      }
    }
    return slices.utf8Slice(s, e);
  };
}

/** Computes `make()` once, on first call. */
function once<T>(make: () => T): () => T {
  let value: T | undefined;
  let made = false;
  return () => {
    if (!made) {
      value = make();
      made = true;
    }
    return value as T;
  };
}

/** Readers of flat types: null, bool, numbers, strings, binary, decimals. */
function flatReader(
  data: Data,
  r: Resolved,
  column: string,
  valid: (fn: ValueReader) => ValueReader,
): ValueReader | undefined {
  const type = data.type as DataType;
  const values = data.values as ArrayLike<number | bigint> & { subarray?: unknown };
  switch (type.typeId) {
    case Type.Null:
      return () => null;
    case Type.Bool: {
      const bits = data.values as Uint8Array;
      const offset = data.offset;
      return valid((i) => ((bits[(offset + i) >> 3]! >> ((offset + i) & 7)) & 1) === 1);
    }
    case Type.Int: {
      const t = type as Int64;
      if (t.bitWidth === 64) return valid((i) => int64Out(BigInt(values[i]!), r.int64, column));
      return valid((i) => Number(values[i]));
    }
    case Type.Float: {
      if ((type as Float64).precision === 0) {
        const vector = once(() => makeVector(data));
        return valid((i) => vector().get(i));
      }
      return valid((i) => values[i]);
    }
    case Type.Utf8:
    case Type.LargeUtf8: {
      const offsets = data.valueOffsets as ArrayLike<number | bigint>;
      const bytes = data.values as Uint8Array;
      const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      return valid(textReader(text, offsets));
    }
    case Type.Binary:
    case Type.LargeBinary: {
      const offsets = data.valueOffsets as ArrayLike<number | bigint>;
      const bytes = data.values as Uint8Array;
      return valid((i) => bytes.slice(Number(offsets[i]), Number(offsets[i + 1])));
    }
    case Type.FixedSizeBinary: {
      const width = (type as unknown as { byteWidth: number }).byteWidth;
      const bytes = data.values as Uint8Array;
      return valid((i) => bytes.slice(i * width, (i + 1) * width));
    }
    case Type.Utf8View:
    case Type.BinaryView: {
      const vector = once(() => makeVector(data) as Vector);
      return valid((i) => {
        const v = vector().get(i) as unknown;
        return v instanceof Uint8Array ? v.slice() : v;
      });
    }
    case Type.Decimal: {
      const t = type as unknown as { scale: number; bitWidth: number };
      const stride = t.bitWidth / 32;
      const words = data.values as Uint32Array;
      return valid((i) => decimalText(words, i * stride, stride, t.scale));
    }
    default:
      return undefined;
  }
}

/** Readers of dates, times, timestamps, durations and intervals. */
function temporalReader(
  data: Data,
  r: Resolved,
  column: string,
  valid: (fn: ValueReader) => ValueReader,
): ValueReader | undefined {
  const type = data.type as DataType;
  const values = data.values as ArrayLike<number | bigint> & { subarray?: unknown };
  switch (type.typeId) {
    case Type.Date: {
      const dayUnit = (type as unknown as { unit: number }).unit === 0;
      if (dayUnit && r.timestamps === 'date') {
        // days fit a double exactly: no bigint per value
        const days = data.values as Int32Array;
        return valid((i) => numberMsToDate(days[i]! * 86_400_000, column));
      }
      return valid((i) => {
        const ms = dayUnit ? BigInt(values[i]!) * 86_400_000n : BigInt(values[i]!);
        const date = msToDate(ms, column);
        return r.timestamps === 'date' ? date : date.toISOString().slice(0, 10);
      });
    }
    case Type.Timestamp: {
      const unit = (type as TimestampMillisecond).unit;
      if (unit === 1 && r.timestamps === 'date') {
        // milliseconds to a Date: one range check on the double (bigint arithmetic per value is slow)
        const ms = values as BigInt64Array;
        return valid((i) => numberMsToDate(Number(ms[i]!), column));
      }
      return valid((i) => timestampOut(BigInt(values[i]!), unit, r, column));
    }
    case Type.Time: {
      const unit = (type as unknown as { unit: number }).unit;
      return valid((i) => timeOfDay(BigInt(values[i]!), unit, column));
    }
    case Type.Duration:
      return valid((i) => int64Out(BigInt(values[i]!), r.int64, column));
    case Type.Interval: {
      const unit = (type as unknown as { unit: number }).unit;
      const ints = data.values as Int32Array;
      if (unit === 0) return valid((i) => ({ months: ints[i] }));
      if (unit === 1) return valid((i) => ({ days: ints[2 * i], milliseconds: ints[2 * i + 1] }));
      return valid((i) => {
        const lo = BigInt(ints[4 * i + 2]! >>> 0);
        const hi = BigInt(ints[4 * i + 3]!);
        return { months: ints[4 * i], days: ints[4 * i + 1], nanoseconds: int64Out((hi << 32n) | lo, r.int64, column) };
      });
    }
    default:
      return undefined;
  }
}

/** Readers of nested types: lists, maps, structs, unions, dictionaries (children decoded once, on first read). */
function nestedReader(
  data: Data,
  r: Resolved,
  column: string,
  valid: (fn: ValueReader) => ValueReader,
): ValueReader | undefined {
  const type = data.type as DataType;
  const values = data.values as ArrayLike<number | bigint> & { subarray?: unknown };
  switch (type.typeId) {
    case Type.List:
    case Type.LargeList:
    case Type.Map: {
      const offsets = data.valueOffsets as ArrayLike<number | bigint>;
      const child = data.children[0]!;
      const items = once(() => {
        const all = dataToValues(child, r, column);
        if (type.typeId !== Type.Map) return all;
        // entries are structs of (key, value) whatever their field names
        const [keys, vals] = child.children.map((c) => dataToValues(c, r, column));
        return all.map((_, k) => ({ key: keys?.[k] ?? null, value: vals?.[k] ?? null }));
      });
      return valid((i) => items().slice(Number(offsets[i]), Number(offsets[i + 1])));
    }
    case Type.FixedSizeList: {
      const size = (type as unknown as { listSize: number }).listSize;
      const child = data.children[0]!;
      const items = once(() => dataToValues(child, r, column));
      return valid((i) => items().slice(i * size, (i + 1) * size));
    }
    case Type.Struct: {
      const fields = (type as Struct).children;
      const columns = once(() => data.children.map((c, k) => dataToValues(c, r, `${column}.${fields[k]?.name ?? k}`)));
      const duplicate = new Set(fields.map((f) => f.name)).size !== fields.length;
      return valid((i) => {
        const cols = columns();
        if (duplicate) return cols.map((c) => c[i]);
        const obj: Record<string, unknown> = {};
        fields.forEach((f, k) => {
          obj[f.name] = cols[k]![i];
        });
        return obj;
      });
    }
    case Type.Union: {
      const t = type as unknown as { mode: number; typeIdToChildIndex: Record<number, number> };
      const typeIds = data.typeIds;
      const columns = once(() => data.children.map((c) => dataToValues(c, r, column)));
      const offsets = data.valueOffsets as Int32Array;
      return (i) => columns()[t.typeIdToChildIndex[typeIds[i]!]!]![t.mode === 0 ? i : offsets[i]!];
    }
    case Type.Dictionary: {
      const dictionary = data.dictionary;
      if (!dictionary)
        throw new FormatError(`Column "${column}" is dictionary-encoded but its dictionary is missing`, {});
      const dict = once(() => dictionary.data.flatMap((d) => dataToValues(d, r, column)));
      return valid((i) => {
        const entries = dict();
        const index = Number(values[i]);
        if (index < 0 || index >= entries.length)
          throw new FormatError(
            `Column "${column}" has dictionary index ${index} beyond its ${entries.length} entries`,
            {},
          );
        return entries[index];
      });
    }
    default:
      return undefined;
  }
}

function readerOf(data: Data, r: Resolved, column: string): ValueReader {
  const type = data.type as DataType;
  // the validity check only where there are nulls
  const valid = (fn: ValueReader): ValueReader => {
    const bitmap = data.nullBitmap;
    if (!bitmap || bitmap.length === 0 || data.nullCount === 0) return fn;
    const offset = data.offset;
    return (i) => (((bitmap[(offset + i) >> 3]! >> ((offset + i) & 7)) & 1) === 1 ? fn(i) : null);
  };
  const reader =
    flatReader(data, r, column, valid) ??
    temporalReader(data, r, column, valid) ??
    nestedReader(data, r, column, valid);
  if (reader) return reader;
  throw new UnsupportedError(
    `Column "${column}" has Arrow type ${String(type)}, which spillway cannot convert to rows`,
    {},
  );
}

/**
 * Converts a RecordBatch to rows. Column types map to: integers -> number (64-bit per
 * `options.int64`), floats -> number, bool, utf8 -> string, binary -> Uint8Array, decimals ->
 * exact strings, dates/timestamps -> Date (or ISO strings), times -> `HH:MM:SS[.fraction]`,
 * durations -> integers in their unit, intervals -> objects, lists -> arrays, structs -> objects,
 * maps -> arrays of `{ key, value }`, dictionaries -> decoded values, nulls -> null. Columns marked
 * JSON by {@link rowsToRecordBatch} are parsed back; Int64 columns it built from bigints alone read
 * as bigints unless `options.int64` says otherwise.
 */
export function recordBatchToRows(batch: RecordBatch, options: ToRowsOptions = {}): Row[] {
  const columns = batch.schema.fields.map((_, c) => recordBatchColumn(batch, c, options));
  const numRows = options.selection?.length ?? batch.numRows;
  const asArrays =
    options.shape === 'array' ||
    (options.shape === undefined && batch.schema.metadata.get(ROWS_METADATA_KEY) === 'array');
  const rows = new Array<Row>(numRows);
  if (asArrays) {
    for (let i = 0; i < numRows; i++) rows[i] = columns.map((c) => c[i]);
    return rows;
  }
  const make = columnsRowMaker(batch.schema.fields.map((f) => f.name));
  for (let i = 0; i < numRows; i++) rows[i] = make(columns, i);
  return rows;
}

/**
 * The values {@link recordBatchToRows} puts in its rows' column `c`, without the row objects: for
 * a reader that keeps values by column (a join's build side, join-table.ts). `options.shape` is
 * not read.
 */
export function recordBatchColumn(batch: RecordBatch, c: number, options: ToRowsOptions = {}): unknown[] {
  const field = batch.schema.fields[c]!;
  const r: Resolved = { int64: options.int64 ?? 'auto', timestamps: options.timestamps ?? 'date' };
  const rc: Resolved = int64ModeOf(field) === undefined ? r : { ...r, int64: options.int64 ?? 'bigint' };
  const selection = options.selection;
  const numRows = selection?.length ?? batch.numRows;
  const vector = batch.getChildAt(c);
  const chunks = vector?.data ?? [];
  // one Data per column is the rule: its values are the column (flatMap would copy them)
  const values =
    vector === null
      ? new Array<unknown>(numRows).fill(null)
      : chunks.length === 1
        ? dataToValues(chunks[0]!, rc, field.name, selection)
        : selectValues(
            chunks.flatMap((d) => dataToValues(d, rc, field.name)),
            selection,
          );
  if (field.metadata.get(JSON_METADATA_KEY) === 'true') {
    for (let i = 0; i < values.length; i++)
      if (typeof values[i] === 'string') values[i] = parseJsonExact(values[i] as string);
  }
  return values;
}

/** `values` at `selection` (all of them without one). */
function selectValues(values: unknown[], selection: ArrayLike<number> | undefined): unknown[] {
  return selection === undefined ? values : Array.from({ length: selection.length }, (_, j) => values[selection[j]!]);
}
