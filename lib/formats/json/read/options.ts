/**
 * fromJsonl's options: their type, the keys it knows, and their validation into a
 * {@link JsonlPlan}, synchronously and before anything is opened.
 */
import { Readable } from 'node:stream';
import { ValidationError, describeValue } from '../../../core/errors.ts';
import { expectBoolean, expectInteger, expectOneOf, expectOptions } from '../../../core/validate.ts';
import { isHttpUrl, redactUrl } from '../../../dataset/remote/url.ts';
import type { DatasetOptions } from '../../../dataset/multi-file.ts';
import type { ErrorPolicy } from '../../../io/dead-letter.ts';

/** Options of {@link fromJsonl} (dataset options: see docs/datasets.md). */
export interface FromJsonlOptions extends DatasetOptions {
  /** Rows per batch (default 2048). */
  batchSize?: number;
  /** What to do with a line that is not valid JSON or not an object (default `'fail'`). */
  onError?: ErrorPolicy;
  /** Decompress gzip input; default: true when the path ends in `.gz`. */
  gzip?: boolean;
  /** Decompress zstd input; default: true when the path ends in `.zst` or `.zstd`. */
  zstd?: boolean;
  /** Name used in stats and errors (default `fromJsonl`). */
  name?: string;
  /**
   * A line with bytes that are not UTF-8: a bad line (`'error'`, default: the `onError` policy
   * decides, as for invalid JSON) or read with U+FFFD in their place (`'replace'`).
   */
  invalidUtf8?: 'error' | 'replace';
}

const DEFAULT_BATCH_SIZE = 2048;
const KEYS = new Set([
  'batchSize',
  'onError',
  'gzip',
  'zstd',
  'name',
  'invalidUtf8',
  'fileColumn',
  'hive',
  'hiveTypes',
  'where',
]);

/** fromJsonl's options, checked: what the factory and the readers work from. */
export interface JsonlPlan {
  input: string | Readable;
  /** The file path or URL, for a path input. */
  file: string | undefined;
  /** The URL, when the input is one. */
  url: string | undefined;
  stage: string;
  /** The file, the redacted URL, or the stage name for a stream: for errors and batch positions. */
  where: string;
  batchSize: number;
  policy: ErrorPolicy;
  compression: 'gzip' | 'zstd' | undefined;
  invalidUtf8: 'error' | 'replace';
}

function validatePolicy(value: unknown): ErrorPolicy {
  if (value === undefined) return 'fail';
  if (value === 'fail' || value === 'skip') return value;
  if (typeof value === 'object' && value !== null && typeof (value as { deadLetter?: unknown }).deadLetter === 'string')
    return { deadLetter: (value as { deadLetter: string }).deadLetter };
  throw new ValidationError(
    `Expected \`options.onError\` to be 'fail', 'skip' or { deadLetter: path }, got ${describeValue(value)}`,
  );
}

/** The path whose extension tells the compression: a URL's is its path's (a signed URL's query would hide it). */
function namedPath(file: string | undefined): string | undefined {
  if (file === undefined || !isHttpUrl(file)) return file;
  try {
    return new URL(file).pathname;
  } catch {
    throw new ValidationError(`Expected \`input\` to be a valid URL, got ${describeValue(redactUrl(file))}`);
  }
}

/** Validates fromJsonl's input and options (synchronously; nothing is opened). */
export function resolveJsonlOptions(input: unknown, options: FromJsonlOptions | undefined): JsonlPlan {
  if (!(typeof input === 'string' && input.length > 0) && !(input instanceof Readable)) {
    throw new ValidationError(`Expected \`input\` to be a file path or a Readable, got ${describeValue(input)}`);
  }
  const opts = expectOptions(options);
  const unknown = Object.keys(opts).find((k) => !KEYS.has(k));
  if (unknown !== undefined)
    throw new ValidationError(`Unknown option \`options.${unknown}\` (expected ${[...KEYS].join(', ')})`);
  const batchSize = expectInteger(opts.batchSize, 'options.batchSize', DEFAULT_BATCH_SIZE);
  const policy = validatePolicy(opts.onError);
  const file = typeof input === 'string' ? input : undefined;
  const named = namedPath(file);
  const gzip = expectBoolean(opts.gzip, 'options.gzip', named?.endsWith('.gz') ?? false);
  const zstd = expectBoolean(opts.zstd, 'options.zstd', named !== undefined && /\.zstd?$/.test(named));
  if (gzip && zstd) throw new ValidationError('`options.gzip` and `options.zstd` cannot both be true');
  if (opts.name !== undefined && (typeof opts.name !== 'string' || opts.name.length === 0)) {
    throw new ValidationError(`Expected \`options.name\` to be a non-empty string, got ${describeValue(opts.name)}`);
  }
  const stage = opts.name ?? 'fromJsonl';
  const url = file !== undefined && isHttpUrl(file) ? file : undefined;
  return {
    input,
    file,
    url,
    stage,
    where: url !== undefined ? redactUrl(url) : (file ?? stage),
    batchSize,
    policy,
    compression: gzip ? 'gzip' : zstd ? 'zstd' : undefined,
    invalidUtf8: expectOneOf(opts.invalidUtf8, 'options.invalidUtf8', ['error', 'replace'], 'error'),
  };
}
