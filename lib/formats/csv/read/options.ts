/**
 * fromCsv's options: their type, the keys it knows (csv-parse's included, so a misspelling is
 * caught), and their validation into a {@link CsvPlan}, synchronously and before any file is
 * opened. The dialect is settled later, at open, by the sniffer (read/sniff.ts).
 */
import { Readable } from 'node:stream';
import type { Options as CsvParseOptions } from 'csv-parse';
import { ValidationError } from '../../../core/errors.ts';
import type { ErrorPolicy } from '../../../io/dead-letter.ts';
import { expectBoolean, expectInteger, expectOneOf, expectOptions } from '../../../core/validate.ts';
import type { DatasetOptions } from '../../../dataset/multi-file.ts';
import type { CsvColumnType, CsvSchema } from '../cast.ts';

/** csv-parse options that fromCsv controls itself and so does not pass through. */
type ControlledParseOptions =
  | 'columns'
  | 'cast'
  | 'cast_date'
  | 'castDate'
  | 'on_record'
  | 'onRecord'
  | 'on_skip'
  | 'onSkip'
  | 'skip_records_with_error'
  | 'skipRecordsWithError'
  | 'raw'
  | 'info'
  | 'objname'
  | 'objName'
  | 'encoding';

/**
 * Options of {@link fromCsv}. Any other csv-parse option (delimiter, quote, escape, bom, relax_quotes, relax_column_count, trim, comment, from_line, to_line, ...) is passed through to csv-parse.
 * `relax_quotes` unset reads as DuckDB: a quote inside an unquoted field is text, text after a closing quote is a bad record
 * (the csv-parse reader relaxes both); `true` keeps both as text; `false` makes both bad records.
 */
export interface FromCsvOptions extends Omit<CsvParseOptions, ControlledParseOptions>, DatasetOptions {
  /**
   * `true`: the first line is a header and rows are objects keyed by it; `false`: rows are arrays;
   * an array of names: the file has no header and rows are objects with these keys. Default: the
   * sniffer's answer for a file (header or not; without one, columns are named `column0`, ...),
   * `true` for a stream.
   */
  columns?: boolean | readonly string[];
  /** With `columns: true`: the header the file must have; a different header is an error. */
  expectColumns?: readonly string[];
  /**
   * `false` (default): every cell stays a string. `true`: numbers, booleans and empty-as-null are
   * inferred cell by cell. `'auto'`: each column gets the type the sniffer detected from the
   * sample (boolean, integer, double, date, timestamp, else text). An object (or array for rows
   * without header) of column types casts declared columns, and a cell that does not fit is a bad
   * row (see `onError`).
   */
  cast?: boolean | 'auto' | CsvSchema;
  /** Per-column types on top of `cast: 'auto'` (or of all-text): they win over what was detected. */
  types?: Readonly<Record<string, CsvColumnType>>;
  /**
   * Detect the dialect of a file from its first `sampleBytes` (default true for a file path; a
   * stream is never sniffed). Options given explicitly always win over what is detected.
   */
  sniff?: boolean;
  /** Bytes the sniffer reads from the start of the (decompressed) file (default 64 KB). */
  sampleBytes?: number;
  /** Lines before the header to skip (a preamble); default: what the sniffer finds (else 0). */
  skipLines?: number;
  /**
   * Skip empty lines. Default, as DuckDB: skipped when the file has more than one column (in a
   * one-column file an empty line is an empty value). `false`: an empty line is a record.
   */
  skipBlankLines?: boolean;
  /**
   * Rows per batch, or `'auto'` (default): starts at 2048 and follows the observed bytes per row
   * (about 1 MB of rows a batch) and the memory governor's headroom, between 256 and 65536 rows.
   * The sizes chosen are in stats.
   */
  batchSize?: number | 'auto';
  /** Decompress gzip input; default: true when the path ends in `.gz`. */
  gzip?: boolean;
  /** Decompress zstd input; default: true when the path ends in `.zst`. */
  zstd?: boolean;
  /** What to do with a malformed row or a cell that does not fit its declared type (default `'fail'`). */
  onError?: ErrorPolicy;
  /** Text encoding of the file (default `utf8`). */
  encoding?: BufferEncoding;
  /** Name used in stats and errors (default: `fromCsv`; errors name the file as well). */
  name?: string;
  /**
   * `'auto'` (default): the fast byte scanner when the options allow it (single-byte delimiter,
   * `"` quotes, UTF-8, no csv-parse-only option), else csv-parse; `'fast'` requires the scanner;
   * `'csv-parse'` forces csv-parse. Both give the same rows and errors; `stats` says which ran.
   */
  parser?: 'auto' | 'fast' | 'csv-parse';
  /**
   * The fast path's batches: `'rows'` or `'arrow'` (typed Arrow columns; rows are made once if a
   * row stage asks). Default: what the pipeline negotiates (lib/core/negotiate.ts): Arrow when the
   * stage after the source reads it (toParquet, toArrow, toSpill, a filter), with numbers as
   * Float64 so the column types are those of rows; else rows.
   */
  output?: 'rows' | 'arrow';
}

/** fromCsv's own option keys. */
const OWN_KEYS = [
  'columns',
  'expectColumns',
  'cast',
  'types',
  'sniff',
  'sampleBytes',
  'skipLines',
  'skipBlankLines',
  'batchSize',
  'gzip',
  'zstd',
  'onError',
  'encoding',
  'name',
  'parser',
  'output',
  // a dataset of files (lib/dataset): handled before these options reach a single file's reader
  'fileColumn',
  'hive',
  'hiveTypes',
  'where',
];
/** csv-parse's options that pass through (both spellings). */
const PARSE_KEYS = [
  'bom',
  'comment',
  'comment_no_infix',
  'commentNoInfix',
  'delimiter',
  'escape',
  'from',
  'from_line',
  'fromLine',
  'group_columns_by_name',
  'groupColumnsByName',
  'ignore_last_delimiters',
  'ignoreLastDelimiters',
  'ltrim',
  'max_record_size',
  'maxRecordSize',
  'quote',
  'record_delimiter',
  'recordDelimiter',
  'relax_column_count',
  'relaxColumnCount',
  'relax_column_count_less',
  'relaxColumnCountLess',
  'relax_column_count_more',
  'relaxColumnCountMore',
  'relax_quotes',
  'relaxQuotes',
  'rtrim',
  'skip_empty_lines',
  'skipEmptyLines',
  'skip_records_with_empty_values',
  'skipRecordsWithEmptyValues',
  'to',
  'to_line',
  'toLine',
  'trim',
];
/** Every key fromCsv accepts. */
export const FROM_CSV_KEYS: ReadonlySet<string> = new Set([...OWN_KEYS, ...PARSE_KEYS]);

/** fromCsv's options, checked: what the factory and the readers work from. */
export interface CsvPlan {
  input: string | Readable;
  /** The file path, for a path input. */
  file: string | undefined;
  stageName: string;
  /** The file, or the stage name for a stream: for errors and dead letters. */
  where: string;
  policy: ErrorPolicy;
  parser: 'auto' | 'fast' | 'csv-parse';
  output: 'rows' | 'arrow';
  encoding: BufferEncoding;
  batchSize: number | 'auto' | undefined;
  compression: 'gzip' | 'zstd' | undefined;
  /** `columns` as given (undefined: sniffed, or true). */
  columns: boolean | readonly string[] | undefined;
  expectColumns: readonly string[] | undefined;
  cast: boolean | 'auto' | CsvSchema;
  types: Readonly<Record<string, CsvColumnType>> | undefined;
  sniff: boolean;
  sampleBytes: number;
  skipLines: number | undefined;
  /** undefined: skip them when the file has more than one column. */
  skipBlankLines: boolean | undefined;
  /** csv-parse options given (passed through). */
  parseOptions: Record<string, unknown>;
  /** The options as given, for the checkpoint fingerprint. */
  given: FromCsvOptions;
}

function validatePolicy(value: unknown, path: string): ErrorPolicy {
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

/** Validates fromCsv's input and options (synchronously; nothing is opened). */
export function resolveCsvOptions(input: string | Readable, options: FromCsvOptions | undefined): CsvPlan {
  const opts = expectOptions(options, 'options', [...FROM_CSV_KEYS]);
  if (typeof input !== 'string' && !(input instanceof Readable)) {
    throw new ValidationError(`Expected \`input\` to be a file path or a Readable, got ${typeof input}`);
  }
  if (opts.batchSize !== undefined && opts.batchSize !== 'auto')
    expectInteger(opts.batchSize, 'options.batchSize', 2048);
  const policy = validatePolicy(opts.onError, 'options.onError');
  const {
    columns,
    expectColumns,
    cast,
    types,
    sniff,
    sampleBytes,
    skipLines,
    skipBlankLines,
    batchSize,
    gzip,
    zstd,
    onError: _e,
    encoding,
    name,
    parser,
    output,
    ...parseOptions
  } = opts;
  if (columns !== undefined && typeof columns !== 'boolean' && !Array.isArray(columns)) {
    throw new ValidationError(
      `Expected \`options.columns\` to be a boolean or an array of names, got ${typeof columns}`,
    );
  }
  if (expectColumns !== undefined && columns === false)
    throw new ValidationError('`options.expectColumns` needs `options.columns: true` (a header to check)');
  if (expectColumns !== undefined && Array.isArray(columns))
    throw new ValidationError('`options.expectColumns` needs `options.columns: true` (a header to check)');
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
  const file = typeof input === 'string' ? input : undefined;
  const stageName = name ?? 'fromCsv';
  const useGzip = expectBoolean(gzip, 'options.gzip', file?.endsWith('.gz') ?? false);
  const useZstd = expectBoolean(zstd, 'options.zstd', file?.endsWith('.zst') ?? false);
  if (useGzip && useZstd) throw new ValidationError('`options.gzip` and `options.zstd` cannot both be true');
  return {
    input,
    file,
    stageName,
    where: file ?? stageName,
    policy,
    parser: expectOneOf(parser, 'options.parser', ['auto', 'fast', 'csv-parse'], 'auto'),
    output: expectOneOf(output, 'options.output', ['rows', 'arrow'], 'rows'),
    encoding: encoding ?? 'utf8',
    batchSize,
    compression: useGzip ? 'gzip' : useZstd ? 'zstd' : undefined,
    columns,
    expectColumns,
    cast: cast ?? false,
    types,
    sniff: expectBoolean(sniff, 'options.sniff', file !== undefined) && file !== undefined,
    sampleBytes: expectInteger(sampleBytes, 'options.sampleBytes', 64 * 1024, 1024),
    skipLines: skipLines === undefined ? undefined : expectInteger(skipLines, 'options.skipLines', 0, 0),
    skipBlankLines:
      skipBlankLines === undefined
        ? ((parseOptions.skip_empty_lines ?? parseOptions.skipEmptyLines) as boolean | undefined)
        : expectBoolean(skipBlankLines, 'options.skipBlankLines', true),
    parseOptions: parseOptions as Record<string, unknown>,
    given: opts,
  };
}
