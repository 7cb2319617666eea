/**
 * Value types the formats share: how int64 columns become JavaScript values, a Date that
 * keeps the sub-millisecond digits of micro- and nanosecond timestamps, and the family of a value.
 */

/**
 * The family of a non-null JavaScript value, for type checks across batches or files of row
 * objects: numbers and bigints are one family (`number`), then string, boolean, date, binary, object.
 */
export function valueFamily(value: unknown): string {
  switch (typeof value) {
    case 'number':
    case 'bigint':
      return 'number';
    case 'string':
      return 'string';
    case 'boolean':
      return 'boolean';
    default:
      if (value instanceof Date) return 'date';
      if (value instanceof Uint8Array) return 'binary';
      return 'object';
  }
}

/**
 * No lone surrogate in `text`: UTF-8 cannot encode half of a UTF-16 pair (a JSON escape like
 * `"\ud800"` gives one), and Buffer.write and TextEncoder put U+FFFD in its place without a word.
 * String.prototype.isWellFormed: Node 20 has it, TypeScript's ES2022 lib not; O(1) for Latin-1 text.
 */
export function wellFormed(text: string): boolean {
  return (text as unknown as { isWellFormed(): boolean }).isWellFormed();
}

/** What a refusal of text with a lone surrogate says, wherever text is written as UTF-8. */
export const LONE_SURROGATE_HINT =
  'a lone surrogate (half of a UTF-16 pair, as a JSON escape like "\\ud800" gives), which UTF-8 cannot encode: written, it would become U+FFFD. Mend the text in a map (`s.toWellFormed()`) or write JSON Lines, which keeps it';

/** How 64-bit integers (Int64, UInt64, durations) come out: `auto` = number when safe, else bigint. */
export type Int64Mode = 'number' | 'bigint' | 'auto';

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
    // isoString hands a subclass of PreciseDate back to its own toISOString: format here then
    return isoText(this);
  }
}

/** Marks PreciseDates by a registered symbol: a worker's bundle may hold a second copy of this module. */
const PRECISE_BRAND = Symbol.for('spillway.PreciseDate');
Object.defineProperty(PreciseDate.prototype, PRECISE_BRAND, { value: true });

/** The nanoseconds after a Date's millisecond: a PreciseDate's `nanos`, else 0. */
export function nanosOf(date: Date): number {
  return isPreciseDate(date) ? date.nanos : 0;
}

/** True when `value` is a {@link PreciseDate}, from this copy of the module or another. */
export function isPreciseDate(value: unknown): value is PreciseDate {
  return value instanceof Date && (value as unknown as Record<symbol, unknown>)[PRECISE_BRAND] === true;
}

const DAY_SECONDS = 86_400;
const TWO_DIGITS = Array.from({ length: 100 }, (_, i) => String(i).padStart(2, '0'));
const THREE_DIGITS = Array.from({ length: 1000 }, (_, i) => String(i).padStart(3, '0'));
const MILLIS_Z = THREE_DIGITS.map((digits) => `${digits}Z`);
// The text of the last day and second formatted: a column's timestamps tend to share them, and a
// result made of one cached string and one constant is a single small string object
let lastDay = Number.NaN;
let lastDayText = '';
let lastSecond = Number.NaN;
let lastSecondText = '';

/** `YYYY-MM-DDT` of day `day` since 1970-01-01, computed (years 0-9999) rather than through a Date. */
function dayText(day: number): string {
  // days -> civil date (H. Hinnant's algorithm; eras of 400 years from 0000-03-01)
  const z = day + 719_468;
  const era = Math.floor(z / 146_097);
  const doe = z - era * 146_097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  const y = yoe + era * 400 + (m <= 2 ? 1 : 0);
  if (y < 0 || y > 9999) return Date.prototype.toISOString.call(new Date(day * DAY_SECONDS * 1000)).slice(0, -13);
  return `${THREE_DIGITS[Math.floor(y / 10)]}${y % 10}-${TWO_DIGITS[m]}-${TWO_DIGITS[d]}T`;
}

/** `YYYY-MM-DDTHH:MM:SS.` of second `second` since the epoch. */
function secondText(second: number): string {
  const day = Math.floor(second / DAY_SECONDS);
  if (day !== lastDay) {
    lastDayText = dayText(day);
    lastDay = day;
  }
  let rest = second - day * DAY_SECONDS;
  const h = Math.floor(rest / 3600);
  rest -= h * 3600;
  const m = Math.floor(rest / 60);
  return `${lastDayText}${TWO_DIGITS[h]}:${TWO_DIGITS[m]}:${TWO_DIGITS[rest - m * 60]}.`;
}

/**
 * `date.toISOString()`, the same text (a {@link PreciseDate}'s digits below the millisecond
 * included) at a fraction of the cost: V8's own formatting took a quarter of the time of writing
 * a timestamp column to CSV. Throws the same RangeError for an invalid Date.
 */
export function isoString(date: Date): string {
  // a Date subclass of the user's keeps its own text
  const proto = Object.getPrototypeOf(date) as unknown;
  return proto === Date.prototype || proto === PreciseDate.prototype ? isoText(date) : date.toISOString();
}

/**
 * {@link isoString} of the Date of `ms` (a whole number of milliseconds within the Date range,
 * which the caller checks) with `nanos` nanoseconds below the millisecond (a PreciseDate's; 0 for
 * a Date), without making either.
 */
export function isoTextOf(ms: number, nanos: number): string {
  const second = Math.floor(ms / 1000);
  if (second !== lastSecond) {
    lastSecondText = secondText(second);
    lastSecond = second;
  }
  const milli = ms - second * 1000;
  if (nanos === 0) return lastSecondText + MILLIS_Z[milli]!;
  return `${lastSecondText}${THREE_DIGITS[milli]}${String(nanos).padStart(6, '0').replace(/0+$/, '')}Z`;
}

/** {@link isoString} of a Date or PreciseDate. */
function isoText(date: Date): string {
  const ms = date.getTime();
  if (Number.isNaN(ms)) return Date.prototype.toISOString.call(date);
  // by the brand, not by a `nanos` property any Date could be given
  return isoTextOf(ms, nanosOf(date));
}
