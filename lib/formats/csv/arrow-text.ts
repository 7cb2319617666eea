/**
 * CSV bytes of an Arrow batch's rows written straight from its buffers: the bytes csvFormatter
 * (format.ts) writes for the row views of the same rows, with no JS value made per field. Text
 * columns are copied as the UTF-8 they are, quoted and with quotes doubled where csvFormatter
 * quotes; numbers (64-bit integers too) digit by digit as numberText writes them, timestamps and
 * days as isoString writes the Date or PreciseDate a view makes (styled by date-style.ts: a DATE as
 * its day, a zone-less TIMESTAMP without its `Z`), booleans as `true`/`false`, nulls as nothing.
 *
 * Why: on the README's pipeline (filter -> `{ ...row, notional }` -> toCsv), formatting row views
 * took most of the run: a Date and a string made per field, then concatenated into one string per
 * batch that was encoded again to UTF-8. See docs/performance.md for the figures.
 *
 * Only where the two cannot differ: columns of null, boolean, integer, 32- and 64-bit float, Utf8
 * (valid UTF-8: a view would decode invalid bytes to U+FFFD) and timestamps within the Date range
 * (a view throws for others), without JSON metadata; a dialect whose delimiter and quote are
 * ASCII and can appear in no number's or timestamp's text; every column named once in the batch.
 * Otherwise undefined, and the caller formats views as before.
 */
import { isUtf8 } from 'node:buffer';
import type { Data, DataType, RecordBatch } from 'apache-arrow';
import { JSON_METADATA_KEY } from '../arrow/metadata-keys.ts';
import {
  BOOL_TYPE_ID,
  DATE_TYPE_ID,
  FLOAT_TYPE_ID,
  INT_TYPE_ID,
  NULL_TYPE_ID,
  TIMESTAMP_TYPE_ID,
  UTF8_TYPE_ID,
} from '../arrow/type-ids.ts';
import { isoTextOf } from '../values.ts';
import { DECIMAL_DIGITS, POWERS, shortDecimal, type CsvFormat } from './format.ts';
import { dateStyleOf, styledDate, type DateStyle } from './date-style.ts';

/** Appends one field of row `i` (nothing for null). */
type FieldWriter = (out: TextOut, i: number) => void;

/** Bytes of a batch's CSV text, grown as written. */
class TextOut {
  buf: Buffer;
  at = 0;

  constructor(bytes: number) {
    this.buf = Buffer.allocUnsafe(Math.max(1024, bytes));
  }

  room(n: number): Buffer {
    if (this.at + n > this.buf.length) {
      const grown = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.at + n));
      this.buf.copy(grown, 0, 0, this.at);
      this.buf = grown;
    }
    return this.buf;
  }

  /**
   * Appends `value` as numberText writes it: an integer below 2^52 or a short decimal
   * (format.ts's shortDecimal) digit by digit, with no string made; any other through `String`.
   */
  number(value: number): void {
    if (value === 0) return this.ascii(1 / value < 0 ? '-0' : '0');
    const v = value < 0 ? -value : value;
    let k = 0;
    let m = v;
    if (!Number.isInteger(v)) {
      k = shortDecimal(v);
      m = DECIMAL_DIGITS[0]!;
    } else if (v >= 2 ** 52) k = -1;
    if (k < 0) return this.ascii(String(value));
    const fraction = m % POWERS[k]!;
    let whole = (m - fraction) / POWERS[k]!;
    let digits = 1;
    for (let t = whole; t >= 10; t = Math.floor(t / 10)) digits++;
    const buf = this.room(digits + k + 2);
    let at = this.at;
    if (value < 0) buf[at++] = 45;
    let o = at + digits + (k > 0 ? k + 1 : 0);
    this.at = o;
    // from the last digit back; a double below 2^52 divides by 10 exactly
    for (let j = 0, f = fraction; j < k; j++, f = Math.floor(f / 10)) buf[--o] = 48 + (f % 10);
    if (k > 0) buf[--o] = 46;
    for (let j = 0; j < digits; j++, whole = Math.floor(whole / 10)) buf[--o] = 48 + (whole % 10);
  }

  /** Appends ASCII text (a number's or timestamp's). */
  ascii(text: string): void {
    const buf = this.room(text.length);
    let at = this.at;
    for (let k = 0; k < text.length; k++) buf[at++] = text.charCodeAt(k);
    this.at = at;
  }
}

/** Characters a number's or an ISO timestamp's text may hold: a delimiter or quote among them needs csvFormatter's checks. */
const NUMBER_OR_DATE = /[0-9.eE+\-a-zA-Z: ]/;

/**
 * The CSV bytes of `batch`'s rows (those at `rows` when given, a filter's kept rows), fields in
 * `columns` order, each row ended by the format's record delimiter; undefined when a column or
 * the dialect is one this file does not write (see the module comment).
 */
export function arrowCsvText(
  batch: RecordBatch,
  rows: ArrayLike<number> | undefined,
  format: CsvFormat,
  columns: readonly string[],
): Buffer | undefined {
  const { delimiter, quote, recordDelimiter } = format;
  const dialect = delimiter + quote;
  if (/[^\x00-\x7f]/.test(dialect) || NUMBER_OR_DATE.test(dialect)) return undefined;
  const names = batch.schema.fields.map((f) => f.name);
  if (new Set(names).size !== names.length || names.includes('__proto__')) return undefined;
  const writers: FieldWriter[] = [];
  for (const name of columns) {
    const c = names.indexOf(name);
    const field = batch.schema.fields[c];
    const data = batch.data.children[c];
    if (field === undefined || data === undefined || field.metadata.get(JSON_METADATA_KEY) !== undefined)
      return undefined;
    const writer = fieldWriter(data, delimiter.charCodeAt(0), quote.charCodeAt(0));
    if (writer === undefined) return undefined;
    writers.push(writer);
  }
  const count = rows?.length ?? batch.numRows;
  const out = new TextOut(count * (columns.length * 12 + recordDelimiter.length));
  const d = delimiter.charCodeAt(0);
  for (let r = 0; r < count; r++) {
    const i = rows === undefined ? r : rows[r]!;
    for (let c = 0; c < writers.length; c++) {
      if (c > 0) out.room(1)[out.at++] = d;
      writers[c]!(out, i);
    }
    out.ascii(recordDelimiter);
  }
  return out.buf.subarray(0, out.at);
}

/** The writer of one column's fields, or undefined for a type a view could give another text. */
function fieldWriter(data: Data, delimiter: number, quote: number): FieldWriter | undefined {
  const type = data.type as DataType & {
    precision?: number;
    bitWidth?: number;
    unit?: number;
    timezone?: string | null;
  };
  const valid = validity(data);
  const values = data.values as unknown as ArrayLike<number> & { [i: number]: number };
  switch (type.typeId as number) {
    case NULL_TYPE_ID:
      return () => undefined;
    case BOOL_TYPE_ID: {
      const bits = data.values as Uint8Array;
      const offset = data.offset;
      return (out, i) => {
        if (!valid(i)) return;
        out.ascii(((bits[(offset + i) >> 3]! >> ((offset + i) & 7)) & 1) === 1 ? 'true' : 'false');
      };
    }
    case INT_TYPE_ID:
      if (type.bitWidth === 64) return int64Writer(data, valid);
      return (out, i) => {
        if (valid(i)) out.number(values[i]!);
      };
    case FLOAT_TYPE_ID:
      if (type.precision === 0) return undefined; // half floats: decoded by Arrow's vector
      return (out, i) => {
        if (valid(i)) out.number(values[i]!);
      };
    case TIMESTAMP_TYPE_ID:
      return timestampWriter(data, valid, type.unit!, dateStyleOf(type));
    case DATE_TYPE_ID:
      // days (DateDay) as the Dates a view makes of them; DateMillisecond through views
      return type.unit === 0 ? timestampWriter(data, valid, DAYS, 'date') : undefined;
    case UTF8_TYPE_ID:
      return textWriter(data, valid, delimiter, quote);
    default:
      return undefined;
  }
}

/** Row `i` is not null. */
function validity(data: Data): (i: number) => boolean {
  const bitmap = data.nullBitmap;
  if (data.nullCount === 0 || bitmap === undefined || bitmap.length === 0) return () => true;
  const offset = data.offset;
  return (i) => ((bitmap[(offset + i) >> 3]! >> ((offset + i) & 7)) & 1) === 1;
}

/**
 * 64-bit integers: a view reads a number when it is safe and a bigint when not, whose texts are
 * both the integer's decimal digits.
 */
function int64Writer(data: Data, valid: (i: number) => boolean): FieldWriter {
  const values = data.values as unknown as BigInt64Array | BigUint64Array;
  return (out, i) => {
    if (!valid(i)) return;
    const v = values[i]!;
    if (v >= -(2n ** 53n) && v <= 2n ** 53n) out.number(Number(v));
    else out.ascii(v.toString());
  };
}

/** Units of an Arrow timestamp per millisecond, by unit (seconds, ms, us, ns); seconds are multiplied. */
const PER_MILLI = [0n, 1n, 1000n, 1_000_000n];
/** The unit {@link timestampWriter} takes for DateDay's days (int32). */
const DAYS = -1;
const MAX_DATE_MS = 8_640_000_000_000_000n;

/**
 * Timestamps as isoString writes the Dates (milliseconds, seconds) and PreciseDates (micro- and
 * nanoseconds) a view makes of them, split as to-rows.ts's timestampOut splits them (the
 * millisecond rounded down, the rest as nanoseconds); undefined when one is outside the Date
 * range (a view throws).
 */
function timestampWriter(
  data: Data,
  valid: (i: number) => boolean,
  unit: number,
  style: DateStyle,
): FieldWriter | undefined {
  if (unit === DAYS) {
    const days = data.values as Int32Array;
    // the Date range is 10^8 days either side of 1970 (a view throws beyond)
    for (let i = 0; i < data.length; i++) if (valid(i) && Math.abs(days[i]!) > 1e8) return undefined;
    return (out, i) => {
      if (valid(i)) out.ascii(styledDate(isoTextOf(days[i]! * 86_400_000, 0), style));
    };
  }
  const values = data.values as unknown as BigInt64Array;
  const per = PER_MILLI[unit];
  if (per === undefined) return undefined;
  const millis = (v: bigint): bigint => {
    if (per === 0n) return v * 1000n;
    const q = v / per;
    return v % per !== 0n && v < 0n ? q - 1n : q;
  };
  for (let i = 0; i < data.length; i++) {
    if (!valid(i)) continue;
    const ms = millis(values[i]!);
    if (ms > MAX_DATE_MS || ms < -MAX_DATE_MS) return undefined;
  }
  const toNanos = per === 0n ? 0n : 1_000_000n / per;
  return (out, i) => {
    if (!valid(i)) return;
    const v = values[i]!;
    if (per === 1n) return out.ascii(styledDate(isoTextOf(Number(v), 0), style));
    const ms = millis(v);
    out.ascii(styledDate(isoTextOf(Number(ms), Number((v - ms * (per === 0n ? 0n : per)) * toNanos)), style));
  };
}

/** Utf8 values as their bytes, quoted as csvFormatter quotes them; undefined for bytes that are not UTF-8. */
function textWriter(
  data: Data,
  valid: (i: number) => boolean,
  delimiter: number,
  quote: number,
): FieldWriter | undefined {
  const offsets = data.valueOffsets as Int32Array;
  const bytes = data.values as Uint8Array;
  if (!(offsets instanceof Int32Array)) return undefined;
  const used = bytes.subarray(offsets[0]!, offsets[data.length]!);
  if (!isUtf8(used)) return undefined;
  return (out, i) => {
    if (!valid(i)) return;
    const s = offsets[i]!;
    const e = offsets[i + 1]!;
    // copied as it is while no byte needs quotes (most fields), else again, quoted
    const buf = out.room(2 * (e - s) + 2);
    let o = out.at;
    let p = s;
    for (; p < e; p++) {
      const b = bytes[p]!;
      if (b === delimiter || b === quote || b === 10 || b === 13) break;
      buf[o++] = b;
    }
    if (p === e) {
      out.at = o;
      return;
    }
    o = out.at;
    buf[o++] = quote;
    for (p = s; p < e; p++) {
      const b = bytes[p]!;
      buf[o++] = b;
      if (b === quote) buf[o++] = quote;
    }
    buf[o++] = quote;
    out.at = o;
  };
}
