/**
 * fromParquet's options: their type, the keys it knows, and their validation into a
 * {@link ParquetPlan}, synchronously and before the file is opened.
 */
import { ValidationError, describeValue } from '../../../core/errors.ts';
import { expectColumnNames, expectInteger, expectOneOf, expectOptions, optionKeys } from '../../../core/validate.ts';
import type { DatasetOptions } from '../../../dataset/multi-file.ts';
import { PRUNE_WHERE, type PruneRequest } from '../../../dataset/pushdown.ts';
import type { Int64Mode } from '../types.ts';

/** Options of {@link fromParquet} (dataset options: see docs/datasets.md). */
export interface FromParquetOptions extends DatasetOptions {
  /** Top-level columns to read, in this order (default: all); an unknown name is an error. */
  columns?: readonly string[];
  /** Rows per batch (default 10000). */
  batchSize?: number;
  /** INT64 as `'number'` (throws on an unsafe value), `'bigint'`, or `'auto'` (default: number when safe, else bigint). */
  int64?: Int64Mode;
  /**
   * `'rows'`: batches of row objects. `'arrow'`: batches holding only an Arrow RecordBatch built
   * straight from the decoded pages (no row objects; see `lib/formats/parquet/read/arrow.ts` for
   * the types); `batch.rows` converts on first use. Default: rows, unless the pipeline chooses
   * Arrow for a next stage that reads it (a Parquet, Arrow or spill sink, an operator) and every
   * column is a boolean, integer, FLOAT/DOUBLE, string, binary, date or timestamp (not INT96),
   * whose values are the same both ways; `stats.details.outputChosen` says which and why.
   */
  output?: 'rows' | 'arrow';
  /** Invalid UTF-8 in a string column: `'error'` (default: a FormatError naming file and column) or `'replace'` (U+FFFD). */
  invalidUtf8?: 'error' | 'replace';
  /** A nested page holding more values than this is refused rather than decoded (default 32,000,000, a few bytes a value). */
  maxNestedPageValues?: number;
  /** Name used in stats and errors (default `fromParquet`). */
  name?: string;
}

const DEFAULT_BATCH_SIZE = 10_000;

/** Every option of FromParquetOptions, for strict validation. */
const KNOWN_FROM_PARQUET_OPTIONS = optionKeys<FromParquetOptions>({
  columns: true,
  batchSize: true,
  int64: true,
  output: true,
  name: true,
  fileColumn: true,
  hive: true,
  hiveTypes: true,
  where: true,
  invalidUtf8: true,
  maxNestedPageValues: true,
});

/** fromParquet's options, checked: what the factory and the readers work from. */
export interface ParquetPlan {
  path: string;
  stage: string;
  batchSize: number;
  int64: Int64Mode;
  output: 'rows' | 'arrow';
  invalidUtf8: 'error' | 'replace';
  maxNestedPageValues: number | undefined;
  columns: string[] | undefined;
  /** The only columns the pipeline needs (negotiated; read when the file has them all), else undefined. */
  project?: readonly string[];
  /** A dataset's filter, handed down for row group pruning. */
  pruneWhere: PruneRequest | undefined;
}

/** Validates fromParquet's path and options (synchronously; nothing is opened). */
export function resolveParquetOptions(path: unknown, options: FromParquetOptions | undefined): ParquetPlan {
  if (typeof path !== 'string' || path.length === 0)
    throw new ValidationError(`Expected \`path\` to be a file path, got ${describeValue(path)}`);
  const opts = expectOptions(options, 'options', KNOWN_FROM_PARQUET_OPTIONS);
  const batchSize = expectInteger(opts.batchSize, 'options.batchSize', DEFAULT_BATCH_SIZE);
  const int64 = expectOneOf(opts.int64, 'options.int64', ['auto', 'bigint', 'number'] as const, 'auto');
  const output = expectOneOf(opts.output, 'options.output', ['rows', 'arrow'] as const, 'rows');
  const invalidUtf8 = expectOneOf(opts.invalidUtf8, 'options.invalidUtf8', ['error', 'replace'] as const, 'error');
  const maxNestedPageValues =
    opts.maxNestedPageValues === undefined
      ? undefined
      : expectInteger(opts.maxNestedPageValues, 'options.maxNestedPageValues', 1);
  expectColumnNames(opts.columns, 'options.columns');
  if (opts.name !== undefined && (typeof opts.name !== 'string' || opts.name.length === 0)) {
    throw new ValidationError(`Expected \`options.name\` to be a non-empty string, got ${describeValue(opts.name)}`);
  }
  return {
    path,
    stage: opts.name ?? 'fromParquet',
    batchSize,
    int64,
    output,
    invalidUtf8,
    maxNestedPageValues,
    columns: opts.columns === undefined ? undefined : [...opts.columns],
    pruneWhere: (opts as { [PRUNE_WHERE]?: PruneRequest })[PRUNE_WHERE],
  };
}
