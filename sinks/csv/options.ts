/**
 * The options of `toCsv`, checked at once: the strict option list, the target, and the values
 * the writer needs (header, gzip, binary encoding, columns) with their defaults resolved.
 */
import type { Writable } from 'node:stream';
import type { Options as CsvStringifyOptions } from 'csv-stringify/sync';
import type { PartitionOptions } from '../../lib/dataset/partitioned-writer.ts';
import { refuseZstdOutputName } from '../../lib/io/zstd-output-name.ts';
import { ValidationError } from '../../lib/core/errors.ts';
import { expectBoolean, expectOneOf, expectOptions, optionKeys } from '../../lib/core/validate.ts';
import type { BinaryEncoding } from '../../lib/formats/csv/format.ts';

/** Options of `toCsv`; other csv-stringify options (delimiter, quote, quoted, record_delimiter, ...) pass through. */
export interface ToCsvOptions extends PartitionOptions, Omit<CsvStringifyOptions, 'header' | 'columns' | 'cast'> {
  /** Write a header line (default true, for object rows). */
  header?: boolean;
  /**
   * Columns in order (other keys are left out on purpose). Default: the keys of the first batch's
   * rows in order of first appearance; a later row with a key outside them is an error, not dropped.
   * A name the input does not have (no row had it, or the Arrow schema lacks it) is a
   * SchemaMismatchError, not a column of empty cells.
   */
  columns?: readonly string[];
  /** Gzip the output; default: true when the path ends in `.gz`. A `.zst`/`.zstd` path is refused (no zstd output). */
  gzip?: boolean;
  /** Binary values (Uint8Array, Buffer): `'hex'` digits (default) or `'base64'`. */
  binary?: BinaryEncoding;
}

/** Output of `toCsv`. */
export interface ToCsvResult {
  /** The file written, when the target was a path. */
  path: string | undefined;
  rows: number;
  /** Bytes written (compressed bytes for gzip). */
  bytes: number;
  columns: string[] | undefined;
}

/** Every option of ToCsvOptions, for strict validation. */
const KNOWN_TO_CSV_OPTIONS = optionKeys<ToCsvOptions>({
  header: true,
  columns: true,
  gzip: true,
  bom: true,
  delimiter: true,
  eof: true,
  escape: true,
  header_as_comment: true,
  quote: true,
  quoted: true,
  quoted_empty: true,
  quoted_match: true,
  quoted_string: true,
  record_delimiter: true,
  quote_record_delimiter: true,
  escape_formulas: true,
  transform: true,
  flush: true,
  allowHalfOpen: true,
  readableObjectMode: true,
  writableObjectMode: true,
  readableHighWaterMark: true,
  writableHighWaterMark: true,
  writableCorked: true,
  encoding: true,
  read: true,
  emitClose: true,
  highWaterMark: true,
  objectMode: true,
  construct: true,
  destroy: true,
  autoDestroy: true,
  signal: true,
  decodeStrings: true,
  defaultEncoding: true,
  write: true,
  writev: true,
  final: true,
  partitionBy: true,
  maxOpenFiles: true,
  maxBufferedBytes: true,
  fileName: true,
  existing: true,
  binary: true,
});
/** The checked options of one `toCsv` run. */
export interface CsvSinkSettings {
  readonly target: string | Writable;
  /** The file, when the target is a path. */
  readonly path: string | undefined;
  /** The options as given (after the strict check), for the checkpoint identity. */
  readonly opts: ToCsvOptions;
  readonly header: boolean;
  readonly gzip: boolean;
  readonly binary: BinaryEncoding;
  /** `options.columns` as given. */
  readonly columns: readonly string[] | undefined;
  /** The csv-stringify options (everything not handled by toCsv itself). */
  readonly stringifyOptions: Record<string, unknown>;
}

/**
 * A quote other than `"` escapes itself (doubled), as DuckDB, Python and spillway's reader take
 * it: csv-stringify escapes with `"` whatever the quote, and `quote: "'"` wrote `it's` as
 * `'it"'s'`, which fromCsv, given the same quote, read back as another value.
 */
function withEscape(options: Record<string, unknown>): Record<string, unknown> {
  return options.quote !== undefined && options.escape === undefined ? { ...options, escape: options.quote } : options;
}

/** Checks `target` and `options` of `toCsv`, or throws a ValidationError. */
export function resolveCsvOptions(target: string | Writable, options: ToCsvOptions | undefined): CsvSinkSettings {
  const opts = expectOptions(options, 'options', KNOWN_TO_CSV_OPTIONS);
  if (
    typeof target !== 'string' &&
    (typeof target !== 'object' || target === null || typeof (target as Writable).write !== 'function')
  ) {
    throw new ValidationError('Expected `target` to be a file path or a Writable');
  }
  const path = typeof target === 'string' ? target : undefined;
  refuseZstdOutputName(path, 'toCsv', '.csv');
  const {
    header: headerOption,
    columns: columnsOption,
    gzip: gzipOption,
    binary: binaryOption,
    ...stringifyOptions
  } = opts;
  const binary = expectOneOf(binaryOption, 'options.binary', ['hex', 'base64'], 'hex');
  const header = expectBoolean(headerOption, 'options.header', true);
  const gzip = expectBoolean(gzipOption, 'options.gzip', path?.endsWith('.gz') ?? false);
  if (columnsOption !== undefined && !Array.isArray(columnsOption))
    throw new ValidationError('Expected `options.columns` to be an array of column names');
  return {
    target,
    path,
    opts,
    header,
    gzip,
    binary,
    columns: columnsOption,
    stringifyOptions: withEscape(stringifyOptions as Record<string, unknown>),
  };
}
