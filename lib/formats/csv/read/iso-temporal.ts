/**
 * ISO dates and timestamps read digit by digit, for `cast: 'auto'` and the sniffer: the same
 * values the regular expressions they replace gave (`YYYY-MM-DD`, `YYYY-MM-DD[ T]HH:MM[:SS[.f]]`,
 * and with an offset `Z`, `+HH`, `+HHMM`, `+HH:MM`, `+HH:MM:SS`), at a fraction of the cost: three
 * regular expressions, their match arrays, two rebuilt strings and a Date per cell took 1.3 s of
 * a 7 s `cast: 'auto'` read of a million timestamps. Proleptic Gregorian, years 0000-9999, as a
 * JS Date counts them.
 */
import { PreciseDate } from '../../values.ts';

const DAY_MS = 86_400_000;
const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** The value of the `n` ASCII digits at `at` of `t` (the caller checks the length), or -1. */
function digits(t: string, at: number, n: number): number {
  let v = 0;
  for (let i = at; i < at + n; i++) {
    const c = t.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return -1;
    v = v * 10 + c;
  }
  return v;
}

/** Days since 1970-01-01 of the valid date `y-m-d` (H. Hinnant's days_from_civil), or NaN. */
export function civilDays(y: number, m: number, d: number): number {
  if (y < 0 || m < 1 || m > 12 || d < 1) return Number.NaN;
  const leap = y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0);
  if (d > (m === 2 && leap ? 29 : MONTH_DAYS[m - 1]!)) return Number.NaN;
  const yy = m <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const doy = Math.floor((153 * (m > 2 ? m - 3 : m + 9) + 2) / 5) + d - 1;
  return era * 146_097 + yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy - 719_468;
}

/** Days of the `YYYY-MM-DD` at the start of `t`, or NaN. */
function dateAt(t: string): number {
  if (t.charCodeAt(4) !== 45 || t.charCodeAt(7) !== 45) return Number.NaN;
  const y = digits(t, 0, 4);
  const m = digits(t, 5, 2);
  const d = digits(t, 8, 2);
  return y < 0 || m < 0 || d < 0 ? Number.NaN : civilDays(y, m, d);
}

/** `YYYY-MM-DD` exactly, as UTC midnight; undefined when not that shape or not a calendar date. */
export function parseIsoDate(text: string): Date | undefined {
  if (text.length !== 10) return undefined;
  const days = dateAt(text);
  return Number.isNaN(days) ? undefined : new Date(days * DAY_MS);
}

// the last timestamp read by timestampAt: milliseconds and the nanoseconds below them
let millis = 0;
let nanos = 0;

/**
 * Reads `YYYY-MM-DD[ T]HH:MM` with `:SS` and `.f` (1-9 digits, only after seconds) optional, up to
 * `end`, into `millis`/`nanos`, keeping `keep` digits of the fraction. False when it is not that.
 */
function timestampAt(t: string, end: number, keep: number): boolean {
  if (end < 16) return false;
  const sep = t.charCodeAt(10);
  if ((sep !== 32 && sep !== 84) || t.charCodeAt(13) !== 58) return false;
  const days = dateAt(t);
  const h = digits(t, 11, 2);
  const mi = digits(t, 14, 2);
  let s = 0;
  let fraction = 0;
  let scale = 1e9;
  if (end > 16) {
    if (end < 19 || t.charCodeAt(16) !== 58) return false;
    s = digits(t, 17, 2);
    if (end > 19) {
      const k = end - 20;
      if (t.charCodeAt(19) !== 46 || k < 1 || k > 9) return false;
      const used = Math.min(k, keep);
      fraction = digits(t, 20, used);
      if (digits(t, 20, k) < 0) return false;
      scale = 10 ** (9 - used);
    }
  }
  if (Number.isNaN(days) || h < 0 || mi < 0 || s < 0 || h > 23 || mi > 59 || s > 59) return false;
  const ns = fraction * scale;
  const ms = Math.floor(ns / 1e6);
  millis = days * DAY_MS + ((h * 60 + mi) * 60 + s) * 1000 + ms;
  nanos = ns - ms * 1e6;
  return true;
}

function made(): Date {
  return nanos === 0 ? new Date(millis) : new PreciseDate(millis, nanos);
}

/** A timestamp without an offset, as UTC, keeping all nine fraction digits; undefined when not one. */
export function parseTimestamp(text: string): Date | undefined {
  return timestampAt(text, text.length, 9) ? made() : undefined;
}

/**
 * Where the offset of `YYYY-MM-DD[ T]HH:MM:SS[.f]±..` or `...Z` starts (the seconds are required
 * before one), or -1; `offsetSeconds` holds its seconds east of UTC, NaN when out of range.
 */
function offsetAt(t: string): number {
  const n = t.length;
  if (t.charCodeAt(n - 1) === 90) {
    offsetSecs = 0;
    return n - 1;
  }
  for (let i = n - 3; i >= 19 && i >= n - 9; i--) {
    const c = t.charCodeAt(i);
    if (c !== 43 && c !== 45) continue;
    const rest = n - i - 1;
    const h = digits(t, i + 1, 2);
    let m = 0;
    let s = 0;
    if (rest === 4) m = digits(t, i + 3, 2);
    else if (rest === 5 || rest === 8) {
      if (t.charCodeAt(i + 3) !== 58) return -1;
      m = digits(t, i + 4, 2);
      if (rest === 8) {
        if (t.charCodeAt(i + 6) !== 58) return -1;
        s = digits(t, i + 7, 2);
      }
    } else if (rest !== 2) return -1;
    if (h < 0 || m < 0 || s < 0) return -1;
    offsetSecs = h > 23 || m > 59 || s > 59 ? Number.NaN : (c === 45 ? -1 : 1) * ((h * 60 + m) * 60 + s);
    return i;
  }
  return -1;
}
let offsetSecs = 0;

/**
 * A timestamp with an offset as the instant it names, to the microsecond (DuckDB drops finer
 * digits); one without an offset as UTC, as {@link parseTimestamp} reads it.
 */
export function parseTimestampTz(text: string): Date | undefined {
  const at = text.length >= 20 ? offsetAt(text) : -1;
  // the seconds are required before an offset: without them the text is no timestamp with one
  if (at < 0 || at < 19 || text.charCodeAt(16) !== 58) return parseTimestamp(text);
  if (!timestampAt(text, at, 6)) return undefined;
  if (Number.isNaN(offsetSecs)) return undefined;
  millis -= offsetSecs * 1000;
  return made();
}
