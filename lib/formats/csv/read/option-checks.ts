/**
 * Checks of fromCsv's options that take more than a type test: the error policy, how `columns`,
 * `expectColumns`, `cast` and `types` go together, and which decompression applies.
 */
import { ValidationError } from '../../../core/errors.ts';
import type { ErrorPolicy } from '../../../io/dead-letter.ts';
import { expectBoolean } from '../../../core/validate.ts';

/** `onError` checked: `'fail'` (default), `'skip'` or `{ deadLetter: path }`. */
export function errorPolicy(value: unknown, path: string): ErrorPolicy {
  if (value === undefined) return 'fail';
  if (value === 'fail' || value === 'skip') return value;
  if (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { deadLetter?: unknown }).deadLetter === 'string'
  ) {
    return { deadLetter: (value as { deadLetter: string }).deadLetter };
  }
  throw new ValidationError(
    `Expected \`${path}\` to be 'fail', 'skip' or { deadLetter: path }, got ${JSON.stringify(value)}`,
  );
}

/** `columns` is a boolean or names; `expectColumns` needs a header to check (`columns` true or unset). */
export function checkColumns(columns: unknown, expectColumns: unknown): void {
  if (columns !== undefined && typeof columns !== 'boolean' && !Array.isArray(columns)) {
    throw new ValidationError(
      `Expected \`options.columns\` to be a boolean or an array of names, got ${typeof columns}`,
    );
  }
  if (expectColumns !== undefined && (columns === false || Array.isArray(columns)))
    throw new ValidationError('`options.expectColumns` needs `options.columns: true` (a header to check)');
}

/** `cast` is a boolean, `'auto'` or a schema; `types` an object, not beside a `cast` schema. */
export function checkCasts(cast: unknown, types: unknown): void {
  if (
    cast !== undefined &&
    typeof cast !== 'boolean' &&
    cast !== 'auto' &&
    (typeof cast !== 'object' || cast === null)
  ) {
    throw new ValidationError(
      `Expected \`options.cast\` to be a boolean, 'auto' or a column schema object, got ${typeof cast}`,
    );
  }
  if (types !== undefined && (typeof types !== 'object' || types === null || Array.isArray(types))) {
    throw new ValidationError(`Expected \`options.types\` to be an object of column types, got ${typeof types}`);
  }
  if (types !== undefined && typeof cast === 'object')
    throw new ValidationError(
      "`options.types` goes with `cast: 'auto'` or no cast; with a `cast` schema, declare the types there",
    );
}

/** The decompression to apply: `gzip` / `zstd` as given, else by the file's extension. */
export function compressionOf(file: string | undefined, gzip: unknown, zstd: unknown): 'gzip' | 'zstd' | undefined {
  const useGzip = expectBoolean(gzip, 'options.gzip', file?.endsWith('.gz') ?? false);
  const useZstd = expectBoolean(zstd, 'options.zstd', file?.endsWith('.zst') ?? false);
  if (useGzip && useZstd) throw new ValidationError('`options.gzip` and `options.zstd` cannot both be true');
  return useGzip ? 'gzip' : useZstd ? 'zstd' : undefined;
}
