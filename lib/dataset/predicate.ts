/**
 * The `where` option of dataset sources: a small predicate that is plain data (so it can be
 * logged, stored in a checkpoint or sent to a worker) rather than a function, because a function
 * cannot be looked inside: only plain data lets a source prune partitions and skip Parquet row
 * groups from their statistics before reading them. Evaluation follows SQL's three-valued logic
 * (a comparison with null is unknown; `not unknown` is unknown; only true keeps a row), so the
 * rows kept are the rows DuckDB keeps for the same filter. Pruning asks which outcomes are
 * possible for a file or row group (true, false, unknown) and skips it when true is not one.
 */
import { ValidationError, describeValue } from '../core/errors.ts';
import { isPreciseDate } from '../formats/values.ts';
import { parseIsoDate, parseTimestampTz } from '../formats/csv/read/iso-temporal.ts';

/** A value a predicate compares with. Strings compare with dates as ISO dates (`'2026-11-30'`). */
export type PredicateValue = string | number | bigint | boolean | Date | null;

/** Comparison operators. */
export type ComparisonOp = '=' | '!=' | '<' | '<=' | '>' | '>=';

/**
 * A serialisable row predicate:
 * - `{ col: 'price', op: '>', value: 10 }` (`=`, `!=`, `<`, `<=`, `>`, `>=`)
 * - `{ col: 'symbol', op: 'in', values: ['A', 'B'] }`
 * - `{ col: 'note', op: 'isNull' }` / `{ col: 'note', op: 'isNotNull' }`
 * - `{ and: [...] }`, `{ or: [...] }`, `{ not: ... }`
 */
export type Predicate =
  | { readonly col: string; readonly op: ComparisonOp; readonly value: PredicateValue }
  | { readonly col: string; readonly op: 'in'; readonly values: readonly PredicateValue[] }
  | { readonly col: string; readonly op: 'isNull' | 'isNotNull' }
  | { readonly and: readonly Predicate[] }
  | { readonly or: readonly Predicate[] }
  | { readonly not: Predicate };

/** Outcome bits: a set of possible results of a predicate. */
export const TRUE = 1;
/** The predicate is false. */
export const FALSE = 2;
/** The predicate is unknown (SQL null). */
export const UNKNOWN = 4;
/** Any outcome. */
export const ANY = TRUE | FALSE | UNKNOWN;

const COMPARISONS = new Set(['=', '!=', '<', '<=', '>', '>=']);

function isValue(v: unknown): boolean {
  return v === null || ['string', 'number', 'bigint', 'boolean'].includes(typeof v) || v instanceof Date;
}

/**
 * Checks that `value` is a {@link Predicate} (unknown keys and operators are rejected), naming
 * the path of the offending part.
 * @throws ValidationError
 */
export function expectPredicate(value: unknown, path = 'options.where'): Predicate {
  const fail = (what: string, got: unknown): never => {
    throw new ValidationError(`Expected \`${path}\` to be ${what}, got ${describeValue(got)}`);
  };
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    fail('a predicate object ({ col, op, value }, { and }, { or } or { not })', value);
  const p = value as Record<string, unknown>;
  const keys = Object.keys(p);
  const only = (allowed: string[]): void => {
    const extra = keys.find((k) => !allowed.includes(k));
    if (extra !== undefined)
      throw new ValidationError(`Unknown key \`${path}.${extra}\` (expected ${allowed.join(', ')})`);
  };
  if ('and' in p || 'or' in p) {
    const key = 'and' in p ? 'and' : 'or';
    only([key]);
    const list = p[key];
    if (!Array.isArray(list) || list.length === 0) fail(`a non-empty array in \`${key}\``, list);
    (list as unknown[]).forEach((child, i) => expectPredicate(child, `${path}.${key}[${i}]`));
    return value as Predicate;
  }
  if ('not' in p) {
    only(['not']);
    expectPredicate(p.not, `${path}.not`);
    return value as Predicate;
  }
  if (typeof p.col !== 'string' || p.col.length === 0) fail('a predicate with a column name in `col`', p.col);
  const op = p.op;
  if (op === 'in') {
    only(['col', 'op', 'values']);
    if (!Array.isArray(p.values) || !p.values.every(isValue))
      fail('`values`: an array of strings, numbers, bigints, booleans, Dates or null', p.values);
  } else if (op === 'isNull' || op === 'isNotNull') {
    only(['col', 'op']);
  } else if (typeof op === 'string' && COMPARISONS.has(op)) {
    only(['col', 'op', 'value']);
    if (!('value' in p) || !isValue(p.value)) fail('`value`: a string, number, bigint, boolean, Date or null', p.value);
  } else {
    fail("`op` one of '=', '!=', '<', '<=', '>', '>=', 'in', 'isNull', 'isNotNull'", op);
  }
  return value as Predicate;
}

/** The column names a predicate reads. */
export function predicateColumns(predicate: Predicate, out = new Set<string>()): Set<string> {
  if ('and' in predicate) predicate.and.forEach((p) => predicateColumns(p, out));
  else if ('or' in predicate) predicate.or.forEach((p) => predicateColumns(p, out));
  else if ('not' in predicate) predicateColumns(predicate.not, out);
  else out.add(predicate.col);
  return out;
}

/** Orders strings by code point (which is UTF-8 byte order, as Parquet statistics use), not by UTF-16 unit. */
export function compareStrings(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    const sx = x >= 0xd800 && x <= 0xdfff;
    const sy = y >= 0xd800 && y <= 0xdfff;
    if (sx !== sy) return sx ? 1 : -1;
    return x < y ? -1 : 1;
  }
  return a.length - b.length;
}

/** The nanoseconds below the millisecond of a PreciseDate or an ISO string's fraction digits (4th to 9th), else 0. */
function belowMillis(v: unknown): number {
  if (isPreciseDate(v)) return v.nanos;
  if (typeof v !== 'string') return 0;
  const m = SUB_MILLIS.exec(v);
  return m ? Number(m[1]!.padEnd(6, '0')) : 0;
}
const SUB_MILLIS = /[T ]\d{2}:\d{2}:\d{2}\.\d{3}(\d{1,6})(?!\d)/;

/**
 * Milliseconds of a Date, epoch milliseconds, or ISO text: `YYYY-MM-DD`, or a timestamp with an
 * offset (the instant it names) or without one (read as UTC, as DuckDB reads a TIMESTAMP literal).
 * `Date.parse` read text without an offset in the process's time zone, so the rows a `where` kept
 * (and the files and row groups it skipped) changed with `TZ`. Other text is not comparable (NaN).
 */
function toMillis(v: unknown): number {
  if (v instanceof Date) return v.getTime();
  if (typeof v === 'string') {
    const text = v.trim();
    return (parseIsoDate(text) ?? parseTimestampTz(text))?.getTime() ?? Number.NaN;
  }
  if (typeof v === 'number') return v;
  return Number.NaN;
}

/**
 * Compares two non-null values: negative, zero or positive, or NaN when they cannot be compared
 * (NaN, or unrelated types). Numbers and bigints compare exactly with each other; a numeric string
 * (a decimal read exactly) compares with a number by value; a Date compares with a Date, an ISO
 * string or epoch milliseconds by time.
 */
export function compareValues(a: unknown, b: unknown): number {
  const ta = typeof a;
  const tb = typeof b;
  if ((ta === 'number' || ta === 'bigint') && (tb === 'number' || tb === 'bigint')) {
    return (a as number) < (b as number)
      ? -1
      : (a as number) > (b as number)
        ? 1
        : // biome-ignore lint/suspicious/noDoubleEquals: a number and a bigint are equal by value only under ==
          (a as number) == (b as number)
          ? 0
          : Number.NaN;
  }
  if (ta === 'string' && tb === 'string')
    return compareTimes(a as string, b as string) ?? compareStrings(a as string, b as string);
  if (a instanceof Date || b instanceof Date) {
    const x = toMillis(a);
    const y = toMillis(b);
    if (x !== y) return x < y ? -1 : x > y ? 1 : Number.NaN;
    // the same millisecond: the digits below it decide (a microsecond TIMESTAMP's rows and
    // statistics are PreciseDates; compared by milliseconds, `> 12:00:00.000` skipped 12:00:00.000001)
    const nx = belowMillis(a);
    const ny = belowMillis(b);
    return nx < ny ? -1 : nx > ny ? 1 : 0;
  }
  if (ta === 'boolean' && tb === 'boolean') return a === b ? 0 : a ? 1 : -1;
  if (ta === 'string' && (tb === 'number' || tb === 'bigint')) return compareNumeric(a as string, b as number | bigint);
  if (tb === 'string' && (ta === 'number' || ta === 'bigint'))
    return -compareNumeric(b as string, a as number | bigint);
  return Number.NaN;
}

const TIME_OF_DAY = /^(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(?:([+-])(\d{2})(?::?(\d{2}))?)?$/;

/** Nanoseconds since midnight (UTC, for a TIMETZ's `+HH[:MM]`) of `HH:MM[:SS[.f]][±HH[:MM]]`, or undefined. */
function timeNanos(text: string): number | undefined {
  const m = TIME_OF_DAY.exec(text);
  if (m === null) return undefined;
  const offset = m[5] === undefined ? 0 : (m[5] === '-' ? -1 : 1) * (Number(m[6]) * 60 + Number(m[7] ?? 0)) * 60;
  const seconds = (Number(m[1]) * 60 + Number(m[2])) * 60 + Number(m[3] ?? 0) - offset;
  return seconds * 1e9 + Number((m[4] ?? '').padEnd(9, '0'));
}

/**
 * Two times of day (`HH:MM[:SS[.f]]`, with an offset for a TIMETZ, as a TIME column's rows and statistics hold them) compared
 * by time; undefined when either is other text. As text, `02:30:00.000` was not equal to
 * `02:30:00`, and `02:30:00.50` sorted after `02:30:00.5`.
 */
function compareTimes(a: string, b: string): number | undefined {
  if (a.charCodeAt(2) !== 58 || b.charCodeAt(2) !== 58) return undefined;
  const x = timeNanos(a);
  const y = timeNanos(b);
  if (x === undefined || y === undefined) return undefined;
  return x < y ? -1 : x > y ? 1 : 0;
}

/** A plain decimal: sign, integer digits, fraction digits (a DECIMAL column's rows are such text). */
const DECIMAL_TEXT = /^\s*([+-]?)(\d+)(?:\.(\d*))?\s*$/;

/**
 * Compares numeric text with a number by value. Against an integer (a bigint, or an integral
 * number) a plain decimal compares exactly, its integer part as a bigint: through doubles,
 * 9007199254740993 (a DECIMAL(20,0) cell) was equal to 9007199254740992n. Otherwise both sides are
 * doubles, as the value the user wrote is.
 */
function compareNumeric(text: string, n: number | bigint): number {
  if (text.trim() === '') return Number.NaN;
  const m = typeof n === 'bigint' || Number.isInteger(n) ? DECIMAL_TEXT.exec(text) : null;
  if (m !== null) {
    const negative = m[1] === '-';
    const whole = negative ? -BigInt(m[2]!) : BigInt(m[2]!);
    const b = BigInt(n);
    // a fraction moves the value away from zero, past no other integer
    if (whole !== b) return whole < b ? -1 : 1;
    return /[1-9]/.test(m[3] ?? '') ? (negative ? -1 : 1) : 0;
  }
  const x = Number(text);
  if (Number.isNaN(x)) return Number.NaN;
  return compareValues(x, typeof n === 'bigint' ? Number(n) : n);
}

/** A compiled predicate: the outcome bit (TRUE, FALSE or UNKNOWN) for one row. */
export type RowTest = (get: (col: string) => unknown) => number;

function applyOp(op: ComparisonOp, c: number): boolean {
  switch (op) {
    case '=':
      return c === 0;
    case '!=':
      return c !== 0;
    case '<':
      return c < 0;
    case '<=':
      return c <= 0;
    case '>':
      return c > 0;
    case '>=':
      return c >= 0;
  }
}

/**
 * Compiles `predicate` into a function of a column getter. A NaN value compares false with
 * everything (so `!=` holds for it); a missing column reads as null.
 */
export function compilePredicate(predicate: Predicate): RowTest {
  if ('and' in predicate) {
    const parts = predicate.and.map(compilePredicate);
    return (get) => {
      let out = TRUE;
      for (const part of parts) {
        const r = part(get);
        if (r === FALSE) return FALSE;
        if (r === UNKNOWN) out = UNKNOWN;
      }
      return out;
    };
  }
  if ('or' in predicate) {
    const parts = predicate.or.map(compilePredicate);
    return (get) => {
      let out = FALSE;
      for (const part of parts) {
        const r = part(get);
        if (r === TRUE) return TRUE;
        if (r === UNKNOWN) out = UNKNOWN;
      }
      return out;
    };
  }
  if ('not' in predicate) {
    const inner = compilePredicate(predicate.not);
    return (get) => {
      const r = inner(get);
      return r === TRUE ? FALSE : r === FALSE ? TRUE : UNKNOWN;
    };
  }
  const { col } = predicate;
  if (predicate.op === 'isNull') return (get) => (get(col) == null ? TRUE : FALSE);
  if (predicate.op === 'isNotNull') return (get) => (get(col) == null ? FALSE : TRUE);
  if (predicate.op === 'in') {
    const values = predicate.values.filter((v) => v !== null);
    const hasNull = values.length !== predicate.values.length;
    return (get) => {
      const v = get(col);
      if (v == null) return UNKNOWN;
      for (const w of values) if (compareValues(v, w) === 0) return TRUE;
      return hasNull ? UNKNOWN : FALSE;
    };
  }
  const { op, value } = predicate as { op: ComparisonOp; value: PredicateValue };
  if (value === null) return () => UNKNOWN;
  return (get) => {
    const v = get(col);
    if (v == null) return UNKNOWN;
    const c = compareValues(v, value);
    if (Number.isNaN(c)) return op === '!=' ? TRUE : FALSE;
    return applyOp(op, c) ? TRUE : FALSE;
  };
}

/** The possible outcomes of `not` given the possible outcomes of its operand. */
function negate(set: number): number {
  return (set & TRUE ? FALSE : 0) | (set & FALSE ? TRUE : 0) | (set & UNKNOWN);
}

function combine(a: number, b: number, and: boolean): number {
  let out = 0;
  for (const x of [TRUE, FALSE, UNKNOWN]) {
    if (!(a & x)) continue;
    for (const y of [TRUE, FALSE, UNKNOWN]) {
      if (!(b & y)) continue;
      if (and) out |= x === FALSE || y === FALSE ? FALSE : x === UNKNOWN || y === UNKNOWN ? UNKNOWN : TRUE;
      else out |= x === TRUE || y === TRUE ? TRUE : x === UNKNOWN || y === UNKNOWN ? UNKNOWN : FALSE;
    }
  }
  return out;
}

/** What a pruner knows about a comparison leaf: the set of outcomes its rows can have. */
export type LeafOutcomes = (leaf: Exclude<Predicate, { and: unknown } | { or: unknown } | { not: unknown }>) => number;

/**
 * The set of outcomes `predicate` can have over some rows (a file, a row group), from what
 * `leaf` says about each comparison (ANY when nothing is known). A part whose set lacks TRUE
 * cannot keep a row and can be skipped.
 */
export function possibleOutcomes(predicate: Predicate, leaf: LeafOutcomes): number {
  if ('and' in predicate)
    return predicate.and.map((p) => possibleOutcomes(p, leaf)).reduce((a, b) => combine(a, b, true));
  if ('or' in predicate)
    return predicate.or.map((p) => possibleOutcomes(p, leaf)).reduce((a, b) => combine(a, b, false));
  if ('not' in predicate) return negate(possibleOutcomes(predicate.not, leaf));
  return leaf(predicate);
}

/** Leaf outcomes when some columns have one known value (partition columns); other columns: ANY. */
export function knownValuesLeaf(values: Readonly<Record<string, unknown>>): LeafOutcomes {
  return (leaf) => {
    if (!Object.hasOwn(values, leaf.col)) return ANY;
    return compilePredicate(leaf)((col) => values[col]);
  };
}

/** What statistics tell about one column over some rows. */
export interface ColumnRange {
  /** Rows covered. */
  readonly rows: number;
  /** Nulls among them, when known. */
  readonly nullCount?: number;
  /** A lower bound of the non-null values (inclusive), when known. */
  readonly min?: unknown;
  /** An upper bound of the non-null values (inclusive), when known. */
  readonly max?: unknown;
  /** True when min and max are values that occur (not truncated bounds). */
  readonly exact: boolean;
  /** True when the column can hold NaN (which statistics leave out). */
  readonly nanPossible: boolean;
}

/** Leaf outcomes from column statistics; columns `range` returns undefined for: ANY. */
export function rangeLeaf(range: (col: string) => ColumnRange | undefined): LeafOutcomes {
  return (leaf) => {
    const r = range(leaf.col);
    if (r === undefined) return ANY;
    const known = r.nullCount !== undefined;
    const allNull = known && r.nullCount === r.rows;
    const someNull = !known || r.nullCount! > 0;
    if (leaf.op === 'isNull') return (someNull ? TRUE : 0) | (allNull ? 0 : FALSE);
    if (leaf.op === 'isNotNull') return (someNull ? FALSE : 0) | (allNull ? 0 : TRUE);
    if (allNull) return UNKNOWN;
    const nullBit = someNull ? UNKNOWN : 0;
    if (r.min === undefined || r.min === null || r.max === undefined || r.max === null) return ANY;
    const nan = r.nanPossible;
    const point = (v: PredicateValue): { canEqual: boolean; allEqual: boolean; lo: number; hi: number } | undefined => {
      // string bounds are in text order, which only a string value compares in: '10' < '9' as
      // text, while a row compares with 5 or a Date by its number or time (a group holding '5'
      // was skipped for `= 5`)
      if (typeof r.min === 'string' && typeof v !== 'string') return undefined;
      const lo = compareValues(r.min, v);
      const hi = compareValues(r.max, v);
      if (Number.isNaN(lo) || Number.isNaN(hi)) return undefined;
      return { canEqual: lo <= 0 && hi >= 0, allEqual: r.exact && !nan && lo === 0 && hi === 0, lo, hi };
    };
    if (leaf.op === 'in') {
      let canTrue = false;
      let allTrue = false;
      for (const v of leaf.values) {
        if (v === null) continue;
        const p = point(v);
        if (p === undefined) return ANY;
        canTrue ||= p.canEqual;
        allTrue ||= p.allEqual;
      }
      const miss = leaf.values.includes(null) ? UNKNOWN : FALSE;
      return (canTrue ? TRUE : 0) | (allTrue ? 0 : miss) | nullBit;
    }
    const { value } = leaf as { value: PredicateValue };
    if (value === null) return UNKNOWN;
    const p = point(value);
    if (p === undefined) return ANY;
    const { lo, hi } = p;
    let canTrue: boolean;
    let canFalse: boolean;
    switch (leaf.op) {
      case '=':
        canTrue = p.canEqual;
        canFalse = !p.allEqual;
        break;
      case '!=':
        canTrue = !p.allEqual;
        canFalse = p.canEqual;
        break;
      case '<':
        canTrue = lo < 0;
        canFalse = hi >= 0 || nan;
        break;
      case '<=':
        canTrue = lo <= 0;
        canFalse = hi > 0 || nan;
        break;
      case '>':
        canTrue = hi > 0;
        canFalse = lo <= 0 || nan;
        break;
      case '>=':
        canTrue = hi >= 0;
        canFalse = lo < 0 || nan;
        break;
    }
    if (leaf.op === '!=' && nan) canTrue = true;
    return (canTrue ? TRUE : 0) | (canFalse ? FALSE : 0) | nullBit;
  };
}
