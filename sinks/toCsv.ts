/**
 * `toCsv`: writes rows as CSV with csv-stringify, to a file that appears under its name only when
 * the pipeline succeeds (or to a Writable).
 */
import type { Writable } from 'node:stream';
import { stringify, type Options as CsvStringifyOptions } from 'csv-stringify/sync';
import type { Row } from '../lib/batch.ts';
import { BatchSink } from '../lib/sink.ts';
import { openByteOutput, type ByteOutput } from '../lib/byte-output.ts';
import { FormatError, ValidationError } from '../lib/errors.ts';
import { expectBoolean, expectOptions } from '../lib/validate.ts';

/** Options of {@link toCsv}; other csv-stringify options (delimiter, quote, quoted, record_delimiter, ...) pass through. */
export interface ToCsvOptions extends Omit<CsvStringifyOptions, 'header' | 'columns' | 'cast'> {
  /** Write a header line (default true, for object rows). */
  header?: boolean;
  /**
   * Columns in order (other keys are left out on purpose). Default: the keys of the first batch's
   * rows in order of first appearance; a later row with a key outside them is an error, not dropped.
   */
  columns?: readonly string[];
  /** Gzip the output; default: true when the path ends in `.gz`. */
  gzip?: boolean;
}

/** Output of {@link toCsv}. */
export interface ToCsvResult {
  /** The file written, when the target was a path. */
  path: string | undefined;
  rows: number;
  /** Bytes written (compressed bytes for gzip). */
  bytes: number;
  columns: string[] | undefined;
}

const CAST: CsvStringifyOptions['cast'] = {
  date: (value) => value.toISOString(),
  bigint: (value) => value.toString(),
  boolean: (value) => (value ? 'true' : 'false'),
  object: (value) => JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)),
};

/**
 * Writes rows as CSV. A path is written under a temporary name and renamed into place only when
 * every row is written, so an aborted or failed pipeline leaves no partial file under `path`.
 * Dates are written as ISO-8601, bigints as digits, nested values as JSON.
 *
 * @example
 * ```ts
 * const { output } = await pipeline(fromCsv('in.csv'), map(clean), toCsv('out.csv.gz'));
 * console.log(output.rows, output.bytes);
 * ```
 */
export function toCsv(target: string | Writable, options?: ToCsvOptions): BatchSink<ToCsvResult> {
  const opts = expectOptions(options);
  if (typeof target !== 'string' && (typeof target !== 'object' || target === null || typeof (target as Writable).write !== 'function')) {
    throw new ValidationError('Expected `target` to be a file path or a Writable');
  }
  const path = typeof target === 'string' ? target : undefined;
  const { header: headerOption, columns: columnsOption, gzip: gzipOption, ...stringifyOptions } = opts;
  const header = expectBoolean(headerOption, 'options.header', true);
  const gzip = expectBoolean(gzipOption, 'options.gzip', path?.endsWith('.gz') ?? false);
  if (columnsOption !== undefined && !Array.isArray(columnsOption)) throw new ValidationError('Expected `options.columns` to be an array of column names');
  const name = 'toCsv';
  let output: ByteOutput | undefined;
  let columns: string[] | undefined = columnsOption ? [...columnsOption] : undefined;
  let known: Set<string> | undefined;
  let rows = 0;
  let objectRows: boolean | undefined;

  return new BatchSink<ToCsvResult>({
    name,
    async write(batch) {
      output ??= await openByteOutput(target, { gzip, stage: name });
      const batchRows = batch.rows;
      if (batchRows.length === 0) return;
      objectRows ??= !Array.isArray(batchRows[0]);
      let first = false;
      if (objectRows && columns === undefined) {
        columns = keysOf(batchRows);
        first = true;
      } else if (rows === 0) first = true;
      if (objectRows && columnsOption === undefined) {
        known ??= new Set(columns);
        // a key the header lacks would be dropped silently by csv-stringify: refuse instead
        for (const row of batchRows) {
          for (const key in row) {
            if (!known.has(key)) {
              throw new FormatError(`row has column \`${key}\`, which the CSV header [${columns?.join(',')}] lacks; pass options.columns to choose the columns`, { stage: name, file: path, batch: batch.position.index });
            }
          }
        }
      }
      const text = stringify(batchRows as unknown[], {
        ...stringifyOptions,
        cast: CAST,
        header: header && first && objectRows,
        columns: objectRows ? columns : undefined,
      } as CsvStringifyOptions);
      rows += batchRows.length;
      await output.write(text);
    },
    async finish() {
      output ??= await openByteOutput(target, { gzip, stage: name });
      if (rows === 0 && header && columns) await output.write(stringify([], { header: true, columns } as CsvStringifyOptions));
      const bytes = await output.commit();
      return { path, rows, bytes, columns };
    },
    async abort(error) {
      await output?.abort(error);
    },
  });
}

/** Column names of object rows, in order of first appearance. */
function keysOf(rows: readonly Row[]): string[] {
  const seen = new Set<string>();
  for (const row of rows) for (const key in row) seen.add(key);
  return [...seen];
}
