/**
 * The exact arithmetic of sum and mean: a partial state that stays a number while its values are
 * safe integers, becomes a bigint beyond, sums decimal strings exactly as scaled bigints, and
 * falls back to a double at the first fraction. Shared by the row aggregates (aggregates.ts) and
 * the typed per-group columns (agg-columns.ts), which keep the number cases in a Float64Array and
 * move a group to one of these objects only when it leaves them.
 */
import { UnsupportedError, describeValue } from '../core/errors.ts';

/** A sum's partial state: which arithmetic it is in, and its value. */
export interface SumState {
  /** 0 no value yet, 1 safe integer (number), 2 bigint, 3 double, 4 exact decimal (`v` = units, `scale` digits). */
  k: 0 | 1 | 2 | 3 | 4;
  v: number | bigint;
  scale: number;
}

const DECIMAL = /^([+-]?)(\d+)(?:\.(\d+))?$/;

/** Adds a decimal string exactly (`column` names the column in the error when it is not one). */
export function addDecimal(s: SumState, text: string, column: string): void {
  const m = DECIMAL.exec(text);
  if (!m)
    throw new UnsupportedError(`Cannot sum column "${column}": ${describeValue(text)} is not a decimal number`, {});
  const frac = m[3] ?? '';
  let units = BigInt(m[2]! + frac);
  if (m[1] === '-') units = -units;
  addUnits(s, units, frac.length, column);
}

/** Adds `units` scaled by 10^-`scale` exactly. */
export function addUnits(s: SumState, units: bigint, scale: number, column: string): void {
  if (s.k === 0) {
    s.k = 4;
    s.v = units;
    s.scale = scale;
    return;
  }
  if (s.k === 3) {
    s.v = (s.v as number) + Number(units) / 10 ** scale;
    return;
  }
  if (s.k !== 4) {
    // integers so far: they are decimals of scale 0
    s.v = BigInt(s.v);
    s.k = 4;
    s.scale = 0;
  }
  if (scale > s.scale) {
    s.v = (s.v as bigint) * 10n ** BigInt(scale - s.scale);
    s.scale = scale;
  } else if (scale < s.scale) {
    units *= 10n ** BigInt(s.scale - scale);
  }
  s.v = (s.v as bigint) + units;
  void column;
}

/** Adds a number: safe integers stay exact (bigint past 2^53), a fraction makes the sum a double. */
/** Adds a value of a floating-point column: the sum becomes (or stays) a double, whatever came before. */
export function addDouble(s: SumState, value: number): void {
  if (s.k === 4) s.v = Number(s.v) / 10 ** s.scale + value;
  else s.v = s.k === 0 ? value : Number(s.v) + value;
  s.k = 3;
}

/**
 * Adds a number: exact while the sum is a safe integer, a bigint past 2^53, a double from the
 * first fraction on, or the first value past 2^53 (a double that holds no exact integer: 1e308 + 1e308
 * was a 309-digit bigint where DuckDB's sum is inf).
 */
export function addNumber(s: SumState, value: number): void {
  switch (s.k) {
    case 0:
      s.k = Number.isSafeInteger(value) ? 1 : 3;
      s.v = value;
      return;
    case 1: {
      if (!Number.isSafeInteger(value)) {
        s.k = 3;
        s.v = (s.v as number) + value;
        return;
      }
      const next = (s.v as number) + value;
      if (Number.isSafeInteger(next)) s.v = next;
      else {
        s.k = 2;
        s.v = BigInt(s.v as number) + BigInt(value);
      }
      return;
    }
    case 2:
      if (Number.isSafeInteger(value)) s.v = (s.v as bigint) + BigInt(value);
      else {
        s.k = 3;
        s.v = Number(s.v) + value;
      }
      return;
    case 3:
      s.v = (s.v as number) + value;
      return;
    case 4:
      if (Number.isSafeInteger(value)) s.v = (s.v as bigint) + BigInt(value) * 10n ** BigInt(s.scale);
      else {
        s.k = 3;
        s.v = Number(s.v) / 10 ** s.scale + value;
      }
  }
}

/** Adds a bigint exactly (a double sum stays a double). */
export function addBigint(s: SumState, value: bigint): void {
  switch (s.k) {
    case 0:
    case 1:
    case 2:
      s.v = BigInt(s.v) + value;
      s.k = 2;
      return;
    case 3:
      s.v = (s.v as number) + Number(value);
      return;
    case 4:
      s.v = (s.v as bigint) + value * 10n ** BigInt(s.scale);
  }
}

/** Adds any input value (null skipped; booleans as 0/1); other types are an error naming `column`. */
export function addValue(s: SumState, value: unknown, column: string): void {
  if (value === null || value === undefined) return;
  if (typeof value === 'number') addNumber(s, value);
  else if (typeof value === 'bigint') addBigint(s, value);
  else if (typeof value === 'string') addDecimal(s, value, column);
  else if (typeof value === 'boolean') addNumber(s, value ? 1 : 0);
  else throw new UnsupportedError(`Cannot sum column "${column}": ${describeValue(value)} is not a number`, {});
}

/** Adds the partial sum `b` into `a` and returns `a`. */
export function mergeSums(a: SumState, b: SumState, column: string): SumState {
  switch (b.k) {
    case 0:
      return a;
    case 1:
    case 3:
      addNumber(a, b.v as number);
      return a;
    case 2:
      addBigint(a, b.v as bigint);
      return a;
    case 4:
      addUnits(a, b.v as bigint, b.scale, column);
      return a;
  }
}

/** `units` * 10^-`scale` as decimal text. */
export function decimalText(units: bigint, scale: number): string {
  if (scale === 0) return units.toString();
  const negative = units < 0n;
  const digits = (negative ? -units : units).toString().padStart(scale + 1, '0');
  return `${negative ? '-' : ''}${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
}

/** The value of a sum: null when nothing was added, a decimal string for exact decimals. */
export function sumResult(s: SumState): number | bigint | string | null {
  switch (s.k) {
    case 0:
      return null;
    case 4:
      return decimalText(s.v as bigint, s.scale);
    default:
      return s.v;
  }
}
