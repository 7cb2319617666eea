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
import { csvEncoding, type CsvEncoding } from './encoding.ts';
import { FROM_CSV_KEYS } from './option-keys.ts';
import { checkCasts, checkColumns, compressionOf, errorPolicy } from './option-checks.ts';

export { FROM_CSV_KEYS } from './option-keys.ts';

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
  /**
   * Text encoding of the file: `'utf8'` (default), `'latin1'` or `'utf16le'` (Node's other
   * spellings too). A byte order mark at the start of the file wins (UTF-8 or UTF-16LE, as
   * csv-parse reads it); a UTF-16BE file and other encodings are refused. Non-UTF-8 files are
   * read by csv-parse.
   */
  encoding?: BufferEncoding;
  /**
   * Bytes that are not valid UTF-8 in a UTF-8 file: `'error'` (default, as DuckDB: a CsvParseError
   * naming the file, line and column; a bad record under `onError: 'skip'` on the fast path) or
   * `'replace'` (read with U+FFFD in their place).
   */
  invalidUtf8?: 'error' | 'replace';
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
  /**
   * The only columns the pipeline needs (negotiated, Arrow output; lib/core/negotiate.ts): the
   * others are not filled. Undefined: all.
   */
  project?: readonly string[];
  /** The file's encoding as given (a byte order mark may settle another at open: read/encoding.ts). */
  encoding: CsvEncoding;
  /** Invalid UTF-8: refused (`'error'`) or replaced with U+FFFD. */
  invalidUtf8: 'error' | 'replace';
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

/** Validates fromCsv's input and options (synchronously; nothing is opened). */
export function resolveCsvOptions(input: string | Readable, options: FromCsvOptions | undefined): CsvPlan {
  const opts = expectOptions(options, 'options', [...FROM_CSV_KEYS]);
  if (typeof input !== 'string' && !(input instanceof Readable)) {
    throw new ValidationError(`Expected \`input\` to be a file path or a Readable, got ${typeof input}`);
  }
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
    onError,
    encoding,
    invalidUtf8,
    name,
    parser,
    output,
    ...parseOptions
  } = opts;
  if (batchSize !== undefined && batchSize !== 'auto') expectInteger(batchSize, 'options.batchSize', 2048);
  const policy = errorPolicy(onError, 'options.onError');
  checkColumns(columns, expectColumns);
  checkCasts(cast, types);
  const file = typeof input === 'string' ? input : undefined;
  const stageName = name ?? 'fromCsv';
  return {
    input,
    file,
    stageName,
    where: file ?? stageName,
    policy,
    parser: expectOneOf(parser, 'options.parser', ['auto', 'fast', 'csv-parse'], 'auto'),
    output: expectOneOf(output, 'options.output', ['rows', 'arrow'], 'rows'),
    encoding: csvEncoding(encoding, 'options.encoding'),
    invalidUtf8: expectOneOf(invalidUtf8, 'options.invalidUtf8', ['error', 'replace'], 'error'),
    batchSize,
    compression: compressionOf(file, gzip, zstd),
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
