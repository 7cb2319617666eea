/**
 * Shared option validators. Each throws a {@link ValidationError} naming the option path,
 * what was expected and what it received: "Expected `options.batchSize` to be a positive
 * integer, got `0` (number)".
 */
import { ValidationError, describeValue } from './errors.ts';

function fail(path: string, expected: string, value: unknown): never {
  throw new ValidationError(`Expected \`${path}\` to be ${expected}, got ${describeValue(value)}`);
}

/**
 * Throws unless `value` is a plain object (or undefined, which yields `{}`). With `known`, a key
 * outside it is a ValidationError naming the key and the closest known one, so a misspelled
 * option (`batchsize`) fails instead of running with the default.
 */
export function expectOptions<T extends object>(value: T | undefined, path = 'options', known?: readonly string[]): T {
  if (value === undefined) return {} as T;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) fail(path, 'an object', value);
  if (known !== undefined) {
    for (const key of Object.keys(value)) {
      if (known.includes(key) || (value as Record<string, unknown>)[key] === undefined) continue;
      const near = closestKey(key, known);
      throw new ValidationError(
        `Unknown option \`${path}.${key}\`${near === undefined ? '' : ` (did you mean \`${near}\`?)`}; known options: ${known.join(', ')}`,
      );
    }
  }
  return value;
}

/**
 * The option names of `T`, checked complete by the compiler: the object must list every key of
 * `T` and nothing else, so the list cannot drift from the options interface.
 */
export function optionKeys<T extends object>(keys: { readonly [K in keyof Required<T>]: true }): readonly string[] {
  return Object.freeze(Object.keys(keys));
}

/** The known key nearest to `key` (case-insensitive edit distance), when one is near enough to be a typo. */
function closestKey(key: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of known) {
    const d = editDistance(fold(key), fold(candidate));
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return bestDistance <= Math.max(2, Math.floor(key.length / 3)) ? best : undefined;
}

/** Case and underscores ignored: `batch_size` is one step from `batchSize`, not four. */
function fold(key: string): string {
  return key.toLowerCase().replace(/_/g, '');
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length]!;
}

/** Throws unless `value` is an integer >= `min` (default 1). Returns the value or `fallback` when undefined. */
export function expectInteger(
  value: unknown,
  path: string,
  fallback: number,
  min = 1,
  max = Number.MAX_SAFE_INTEGER,
): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `from ${min} to ${max}`;
    fail(path, `an integer ${range}`, value);
  }
  return value;
}

/**
 * Throws unless `value` is undefined or an array of column names, none twice (a repeat would be
 * read once, and the columns named would not be the columns given). Returns a copy.
 */
export function expectColumnNames(value: unknown, path: string): string[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || value.some((c) => typeof c !== 'string'))
    throw new ValidationError(`Expected \`${path}\` to be an array of column names, got ${describeValue(value)}`);
  const repeated = value.find((c, i) => value.indexOf(c) !== i);
  if (repeated !== undefined)
    throw new ValidationError(
      `Expected \`${path}\` to name each column once; ${describeValue(repeated)} is named twice`,
    );
  return [...(value as string[])];
}

/** Throws unless `value` is a finite number within [min, max]. */
export function expectNumber(value: unknown, path: string, fallback: number, min = -Infinity, max = Infinity): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    fail(path, `a number from ${min} to ${max}`, value);
  }
  return value;
}

/** Throws unless `value` is a function. */
export function expectFunction<F extends (...args: never[]) => unknown>(value: F, path: string): F {
  if (typeof value !== 'function') fail(path, 'a function', value);
  return value;
}

/** Throws unless `value` is one of `allowed`. */
export function expectOneOf<T extends string>(value: unknown, path: string, allowed: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    fail(path, `one of ${allowed.map((a) => `'${a}'`).join(', ')}`, value);
  }
  return value as T;
}

/** Throws unless `value` is a boolean. */
export function expectBoolean(value: unknown, path: string, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') fail(path, 'a boolean', value);
  return value;
}

/** Throws unless `value` is a non-empty string. */
export function expectString(value: unknown, path: string): string {
  if (typeof value !== 'string' || value.length === 0) fail(path, 'a non-empty string', value);
  return value;
}

/** Throws unless `value` is an AbortSignal (or undefined). */
export function expectSignal(value: unknown, path: string): AbortSignal | undefined {
  if (value === undefined) return undefined;
  if (!(value instanceof AbortSignal)) fail(path, 'an AbortSignal', value);
  return value;
}

const UNITS: Record<string, number> = {
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
  tib: 1024 ** 4,
};

/** A byte size: a number of bytes, or a string such as `'512MB'`, `'1.5 GiB'`, `'64kb'`. */
export type ByteSize = number | string;

/**
 * Parses a {@link ByteSize} into bytes. Decimal units (KB, MB, GB) are powers of 1000 and binary
 * units (KiB, MiB, GiB) powers of 1024, as in `du --si` and `du`.
 */
export function parseBytes(value: unknown, path: string): number {
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0) fail(path, 'a byte size (bytes >= 0, or a string like "512MB")', value);
    return Math.floor(value);
  }
  if (typeof value === 'string') {
    const match = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(value);
    const unit = match?.[2]?.toLowerCase() || 'b';
    const factor = UNITS[unit];
    if (match?.[1] !== undefined && factor !== undefined) return Math.floor(Number(match[1]) * factor);
  }
  return fail(path, 'a byte size (bytes >= 0, or a string like "512MB")', value);
}
