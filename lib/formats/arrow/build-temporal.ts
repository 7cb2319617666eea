/**
 * Temporal Arrow columns built from the JS values rows hold for them: timestamps and dates from
 * Dates (a PreciseDate's nanoseconds kept), times of day from their `HH:MM:SS[.fraction]` text
 * (what lib/formats/arrow/to-rows.ts gives a TIME). A value the type cannot hold exactly is
 * refused, never rounded.
 */
import {
  type Data,
  type DateDay,
  type Field,
  type TimeMillisecond,
  type TimestampMillisecond,
  makeData,
} from 'apache-arrow';
import { UnsupportedError } from '../../core/errors.ts';
import { mismatch, validityOf } from './build-checks.ts';

const MS_PER_DAY = 86_400_000;

/**
 * Second, millisecond, microsecond or nanosecond timestamps from Dates. A PreciseDate (from spillway's
 * readers) carries the nanoseconds below the millisecond: they are kept, and a value the unit
 * cannot hold exactly (nanoseconds into microseconds, any below-ms digits into milliseconds) is refused.
 */
export function buildTimestamp(field: Field, type: TimestampMillisecond, values: readonly unknown[]): Data {
  const unit = type.unit;
  const perMs = [1n, 1n, 1000n, 1000000n][unit] ?? 1n;
  const nsPerUnit = 1_000_000n / perMs;
  const { bitmap, nullCount } = validityOf(values);
  const out = new BigInt64Array(values.length);
  values.forEach((v, i) => {
    if (v === null || v === undefined) return;
    if (!(v instanceof Date)) throw mismatch(field, v);
    const ms = v.getTime();
    if (Number.isNaN(ms)) throw new UnsupportedError(`Column "${field.name}" holds an invalid Date`, {});
    const nanos = BigInt((v as Date & { nanos?: number }).nanos ?? 0);
    if (nanos % nsPerUnit !== 0n) throw mismatch(field, v);
    // seconds: a Date holding milliseconds is refused
    if (unit === 0 && (nanos !== 0n || ms % 1000 !== 0)) throw mismatch(field, v);
    const value = unit === 0 ? BigInt(ms / 1000) : BigInt(ms) * perMs + nanos / nsPerUnit;
    if (value !== BigInt.asIntN(64, value)) throw outOfRange(field, v, unit);
    out[i] = value;
  });
  return makeData({ type, length: values.length, nullCount, nullBitmap: bitmap, data: out });
}

/** Days or milliseconds since the epoch from Dates; a day-unit date refuses a Date past midnight UTC. */
export function buildDate(field: Field, type: DateDay, values: readonly unknown[]): Data {
  const days = type.unit === 0;
  const { bitmap, nullCount } = validityOf(values);
  const out = days ? new Int32Array(values.length) : new BigInt64Array(values.length);
  values.forEach((v, i) => {
    if (v === null || v === undefined) return;
    if (!(v instanceof Date) || (v as Date & { nanos?: number }).nanos) throw mismatch(field, v);
    const ms = v.getTime();
    if (Number.isNaN(ms)) throw new UnsupportedError(`Column "${field.name}" holds an invalid Date`, {});
    if (!days) (out as BigInt64Array)[i] = BigInt(ms);
    else if (ms % MS_PER_DAY === 0) (out as Int32Array)[i] = ms / MS_PER_DAY;
    else throw mismatch(field, v);
  });
  return makeData({ type, length: values.length, nullCount, nullBitmap: bitmap, data: out as Int32Array });
}

const TIME_TEXT = /^(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?$/;
const UNIT_DIGITS = [0, 3, 6, 9];

/** Times of day in the type's unit from `HH:MM:SS[.fraction]` text; more digits than the unit holds, or past 24:00:00, is refused. */
export function buildTime(field: Field, type: TimeMillisecond, values: readonly unknown[]): Data {
  const digits = UNIT_DIGITS[type.unit]!;
  const wide = type.bitWidth === 64;
  const { bitmap, nullCount } = validityOf(values);
  const out = wide ? new BigInt64Array(values.length) : new Int32Array(values.length);
  values.forEach((v, i) => {
    if (v === null || v === undefined) return;
    const m = typeof v === 'string' ? TIME_TEXT.exec(v) : null;
    const fraction = m?.[4] ?? '';
    if (!m || fraction.length > digits || Number(m[2]) > 59 || Number(m[3]) > 59) throw mismatch(field, v);
    const seconds = Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3]);
    if (seconds > 86_400 || (seconds === 86_400 && /[1-9]/.test(fraction))) throw mismatch(field, v);
    const units = BigInt(seconds) * 10n ** BigInt(digits) + BigInt(fraction.padEnd(digits, '0') || '0');
    if (wide) (out as BigInt64Array)[i] = units;
    else (out as Int32Array)[i] = Number(units);
  });
  return makeData({ type, length: values.length, nullCount, nullBitmap: bitmap, data: out as Int32Array });
}

/** A Date past int64 at the column's unit: nanoseconds hold only the years 1677-2262. */
function outOfRange(field: Field, value: Date, unit: number): UnsupportedError {
  const years = unit === 3 ? 'the years 1677-2262' : 'about 292,000 years either side of 1970';
  return new UnsupportedError(
    `Column "${field.name}" is ${String(field.type)}, whose 64-bit ${['seconds', 'milliseconds', 'microseconds', 'nanoseconds'][unit]} hold only ${years}; it holds ${value.toISOString()}: cast the column to a coarser unit first`,
    {},
  );
}
