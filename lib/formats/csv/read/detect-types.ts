/**
 * Column types from sample text, as DuckDB's sniffer picks them: the narrowest of boolean,
 * integer, double, date and timestamp that every non-empty value of the column fits, else text
 * (so a column mixing numbers and text is text). Also the casts that turn cell text into those
 * types exactly (integers beyond 2^53 as bigint, timestamps to the microsecond).
 *
 * Spaces and tabs around a value: the sniffer takes them where DuckDB's sniffer does (around an
 * integer or a date; before a double or a timestamp; around a timestamp with an offset; never
 * around a boolean, and never a leading `+`), so a column is typed as DuckDB types it; the casts
 * then read a value with them, as DuckDB's casts do once the type is chosen (see blanks.ts).
 */
import { trimBlanks, trimLeadingBlanks } from './blanks.ts';
import { civilDays, parseIsoDate, parseTimestamp, parseTimestampTz } from './iso-temporal.ts';

/** A cell that does not fit its declared type. */
export class CastFailure extends Error {
  readonly column: string;
  constructor(column: string, text: string, type: string) {
    super(
      `column \`${column}\`: cannot cast ${JSON.stringify(text.length > 40 ? `${text.slice(0, 37)}...` : text)} to ${type}`,
    );
    this.column = column;
  }
}

/**
 * A type the sniffer can detect for a CSV column. `timestamptz` is DuckDB's TIMESTAMP WITH TIME
 * ZONE: values with an offset (`Z`, `+01`, `+0100`, `+01:00`) are instants; in a column that has
 * some, values without one are read as UTC (as DuckDB does with its time zone set to UTC).
 */
export type DetectedType = 'boolean' | 'integer' | 'double' | 'date' | 'timestamp' | 'timestamptz' | 'text';

/** Candidate types, narrowest first. */
const CANDIDATES: readonly DetectedType[] = ['boolean', 'integer', 'double', 'date', 'timestamp', 'timestamptz'];

const BOOLEAN = /^(?:true|false)$/i;
// the sniffer's integers and doubles: no leading zeros (DuckDB keeps `007` as text), no leading `+` (DuckDB keeps `+5` as text)
const SNIFF_INTEGER = /^-?(?:0|[1-9]\d*)$/;
const SNIFF_DOUBLE = /^-?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?$/;
// the casts, once a column is typed: DuckDB's casts read `+5` and `007`
const INTEGER = /^[-+]?\d+$/;
const DOUBLE = /^[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?$/;
// NaN and infinities as DuckDB reads a double: any case, `inf` or `infinity`; the sniffer takes
// no leading `+` (`+Infinity` makes the column text), the cast does
const SNIFF_SPECIAL = /^-?(?:nan|inf|infinity)$/i;
const SPECIAL = /^[-+]?(?:nan|inf|infinity)$/i;

/** The double `text` names when it is NaN or an infinity as DuckDB casts them (`-inf`, `NaN`, `+Infinity`), else undefined. */
export function specialDouble(text: string): number | undefined {
  if (!SPECIAL.test(text)) return undefined;
  const lower = text.toLowerCase();
  if (lower.endsWith('nan')) return Number.NaN;
  return lower.startsWith('-') ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY;
}
/** Date formats the sniffer tries, in DuckDB's order of preference (day before month when both fit). */
export const DATE_FORMATS = [
  '%Y-%m-%d',
  '%d/%m/%Y',
  '%m/%d/%Y',
  '%d.%m.%Y',
  '%Y/%m/%d',
  '%d-%m-%Y',
  '%m-%d-%Y',
] as const;
/** One of {@link DATE_FORMATS}. */
export type DateFormat = (typeof DATE_FORMATS)[number];
const DATE_PATTERNS: Record<DateFormat, { re: RegExp; y: number; m: number; d: number }> = {
  '%Y-%m-%d': { re: /^(\d{4})-(\d{2})-(\d{2})$/, y: 1, m: 2, d: 3 },
  '%d/%m/%Y': { re: /^(\d{1,2})\/(\d{1,2})\/(\d{4})$/, y: 3, m: 2, d: 1 },
  '%m/%d/%Y': { re: /^(\d{1,2})\/(\d{1,2})\/(\d{4})$/, y: 3, m: 1, d: 2 },
  '%d.%m.%Y': { re: /^(\d{1,2})\.(\d{1,2})\.(\d{4})$/, y: 3, m: 2, d: 1 },
  '%Y/%m/%d': { re: /^(\d{4})\/(\d{1,2})\/(\d{1,2})$/, y: 1, m: 2, d: 3 },
  '%d-%m-%Y': { re: /^(\d{1,2})-(\d{1,2})-(\d{4})$/, y: 3, m: 2, d: 1 },
  '%m-%d-%Y': { re: /^(\d{1,2})-(\d{1,2})-(\d{4})$/, y: 3, m: 1, d: 2 },
};
// with an offset DuckDB's sniffer wants the seconds, and no space before the offset
const TIMESTAMP_TZ =
  /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}(?::\d{2}(?::\d{2})?|\d{2})?)$/;
const INT64_MAX = 9223372036854775807n;
const INT64_MIN = -9223372036854775808n;

/** True when `text` (not empty) is a value of `type` for the sniffer (DuckDB's rules, blanks included: see the module comment). */
export function fitsType(text: string, type: DetectedType): boolean {
  switch (type) {
    case 'boolean':
      return BOOLEAN.test(text);
    case 'integer': {
      const t = trimBlanks(text);
      if (!SNIFF_INTEGER.test(t)) return false;
      const n = BigInt(t);
      return n >= INT64_MIN && n <= INT64_MAX;
    }
    case 'double': {
      const t = trimLeadingBlanks(text);
      return (SNIFF_DOUBLE.test(t) && !/^-?0\d/.test(t)) || SNIFF_SPECIAL.test(t);
    }
    case 'date': {
      const t = trimBlanks(text);
      return DATE_FORMATS.some((f) => parseDate(t, f) !== undefined);
    }
    case 'timestamp':
      return parseTimestamp(sniffedTimestamp(text)) !== undefined;
    case 'timestamptz': {
      // with an offset, any blanks after it
      const t = trimBlanks(text);
      return (
        parseTimestampTz(sniffedTimestamp(text)) !== undefined ||
        (TIMESTAMP_TZ.test(t) && parseTimestampTz(t) !== undefined)
      );
    }
    case 'text':
      return true;
  }
}

/**
 * A timestamp cell as DuckDB's sniffer reads it: blanks before it skipped, and blanks after it
 * only after the seconds and starting with a space (`10:00:00 ` and `10:00:00 \t` are timestamps,
 * `10:00:00\t` and `10:00 ` text). A value with an offset takes any blanks after it (the caller).
 */
function sniffedTimestamp(text: string): string {
  const t = trimLeadingBlanks(text);
  const m = SECONDS_THEN_SPACE.exec(t);
  return m ? m[1]! : t;
}
const SECONDS_THEN_SPACE = /^(.*\d:\d{2}:\d{2}(?:\.\d+)?) [ \t]*$/;

/** The narrowest type every non-empty value fits (`text` when there are none). */
export function detectType(values: Iterable<string>): DetectedType {
  return detectColumn(values).type;
}

/** The narrowest type every non-empty value fits, and for a date column the one format they all have. */
export function detectColumn(values: Iterable<string>): { type: DetectedType; format?: DateFormat } {
  const possible = new Set(CANDIDATES);
  const formats = new Set<DateFormat>(DATE_FORMATS);
  let seen = false;
  for (const value of values) {
    if (value === '') continue;
    seen = true;
    for (const type of possible) if (type !== 'date' && !fitsType(value, type)) possible.delete(type);
    const date = trimBlanks(value);
    for (const format of formats) if (parseDate(date, format) === undefined) formats.delete(format);
    if (formats.size === 0) possible.delete('date');
    if (possible.size === 0) return { type: 'text' };
  }
  if (!seen) return { type: 'text' };
  for (const type of CANDIDATES)
    if (possible.has(type))
      return type === 'date' ? { type, format: DATE_FORMATS.find((f) => formats.has(f)) } : { type };
  return { type: 'text' };
}

function parseDate(text: string, format: DateFormat = '%Y-%m-%d'): Date | undefined {
  if (format === '%Y-%m-%d') return parseIsoDate(text);
  const { re, y, m: mi, d: di } = DATE_PATTERNS[format];
  const m = re.exec(text);
  if (!m) return undefined;
  const days = civilDays(Number(m[y]), Number(m[mi]), Number(m[di]));
  return Number.isNaN(days) ? undefined : new Date(days * 86_400_000);
}

/**
 * Casts cell text to a detected type: empty is null; integers are numbers when safe, else bigint;
 * dates are UTC midnight; timestamps (no zone, read as UTC) keep digits below the millisecond;
 * timestamps with an offset are the instant they name, to the microsecond. Spaces and tabs around
 * a number, date or timestamp are skipped, a leading `+` and leading zeros are read, as DuckDB's
 * casts read them (a boolean is exact: DuckDB refuses ` true`).
 * @throws CastFailure when the text is not a value of the type (an int64 overflow says so)
 */
export function castDetected(cell: string, type: DetectedType, column: string, format?: DateFormat): unknown {
  if (type === 'text') return cell;
  if (cell === '') return null;
  const text = type === 'boolean' ? cell : trimBlanks(cell);
  switch (type) {
    case 'boolean':
      if (BOOLEAN.test(text)) return text.length === 4;
      break;
    case 'integer': {
      if (!INTEGER.test(text)) break;
      const n = Number(text);
      if (Number.isSafeInteger(n)) return n;
      const big = BigInt(text);
      if (big > INT64_MAX || big < INT64_MIN)
        throw new CastFailure(
          column,
          text,
          'integer: out of range for int64 (-2^63 .. 2^63-1); declare the column as text or bigint',
        );
      return big;
    }
    case 'double':
      if (DOUBLE.test(text)) return Number(text);
      if (SPECIAL.test(text)) return specialDouble(text)!;
      break;
    case 'date': {
      const d = parseDate(text, format);
      if (d) return d;
      break;
    }
    case 'timestamp': {
      const d = parseTimestamp(text);
      if (d) return d;
      break;
    }
    case 'timestamptz': {
      const d = parseTimestampTz(text);
      if (d) return d;
      break;
    }
  }
  throw new CastFailure(column, cell, type);
}
