/**
 * `toCsv`: writes rows as CSV, to a file that appears under its name only when the pipeline
 * succeeds (or to a Writable). The common dialects are formatted by lib/csv-format.ts; other
 * csv-stringify options go to csv-stringify, which writes the same bytes more slowly.
 */
import { isPartitionedRequest, partitionedWrite } from '../lib/dataset/sinks.ts';
import type { PartitionOptions, PartitionedResult } from '../lib/dataset/partitioned-writer.ts';
import type { Writable } from 'node:stream';
import type { Options as CsvStringifyOptions } from 'csv-stringify/sync';
import { stringify } from '../lib/formats/csv/stringify.ts';
import type { Batch, Row } from '../lib/core/batch.ts';
import { RowViewer, isViewable } from '../lib/core/row-view.ts';
import { BatchSink } from '../lib/core/sink.ts';
import { openByteOutput, type ByteOutput, type ByteOutputResume } from '../lib/io/byte-output.ts';
import type { CheckpointJson } from '../lib/observe/checkpoint.ts';
import { resolve as resolvePath } from 'node:path';
import { FormatError, ValidationError } from '../lib/core/errors.ts';
import { expectBoolean, expectOneOf, expectOptions, optionKeys } from '../lib/core/validate.ts';
import {
  csvFormatter,
  csvHeader,
  fastCsvFormat,
  stringifyCast,
  type BinaryEncoding,
  type RowFormatter,
} from '../lib/formats/csv/format.ts';

/** Options of {@link toCsv}; other csv-stringify options (delimiter, quote, quoted, record_delimiter, ...) pass through. */
export interface ToCsvOptions extends PartitionOptions, Omit<CsvStringifyOptions, 'header' | 'columns' | 'cast'> {
  /** Write a header line (default true, for object rows). */
  header?: boolean;
  /**
   * Columns in order (other keys are left out on purpose). Default: the keys of the first batch's
   * rows in order of first appearance; a later row with a key outside them is an error, not dropped.
   */
  columns?: readonly string[];
  /** Gzip the output; default: true when the path ends in `.gz`. */
  gzip?: boolean;
  /** Binary values (Uint8Array, Buffer): `'hex'` digits (default) or `'base64'`. */
  binary?: BinaryEncoding;
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
/**
 * Writes rows as CSV. A path is written under a temporary name and renamed into place only when
 * every row is written, so an aborted or failed pipeline leaves no partial file under `path`.
 * Dates are written as ISO-8601, bigints as digits, binary values as hex (or base64 with
 * `binary: 'base64'`), nested values as JSON.
 *
 * @example
 * ```ts
 * const { output } = await pipeline(fromCsv('in.csv'), map(clean), toCsv('out.csv.gz'));
 * console.log(output.rows, output.bytes);
 * ```
 */
export function toCsv(
  target: string,
  options: ToCsvOptions & { partitionBy: readonly string[] },
): BatchSink<PartitionedResult>;
export function toCsv(target: string | Writable, options?: ToCsvOptions): BatchSink<ToCsvResult>;
export function toCsv(
  target: string | Writable,
  options?: ToCsvOptions,
): BatchSink<ToCsvResult> | BatchSink<PartitionedResult> {
  if (isPartitionedRequest(options, target))
    return partitionedWrite(
      target,
      options!,
      toCsv as (p: string, o?: ToCsvOptions) => BatchSink<unknown>,
      'toCsv',
      'csv',
    );
  const opts = expectOptions(options, 'options', KNOWN_TO_CSV_OPTIONS);
  if (
    typeof target !== 'string' &&
    (typeof target !== 'object' || target === null || typeof (target as Writable).write !== 'function')
  ) {
    throw new ValidationError('Expected `target` to be a file path or a Writable');
  }
  const path = typeof target === 'string' ? target : undefined;
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
  const name = 'toCsv';
  let output: ByteOutput | undefined;
  let columns: string[] | undefined = columnsOption ? [...columnsOption] : undefined;
  let known: Set<string> | undefined;
  let rows = 0;
  let objectRows: boolean | undefined;
  /** Checkpoints: the temporary file to continue, and whether to keep it when the run fails. */
  let resumeFrom: ByteOutputResume | undefined;
  let keepForResume = false;
  const open = (): Promise<ByteOutput> => openByteOutput(target, { gzip, stage: name, resume: resumeFrom });
  const dialect = fastCsvFormat(stringifyOptions as Record<string, unknown>);
  const fast = dialect && { ...dialect, binary };
  let formatter: RowFormatter | undefined;
  /** Formats a batch: the fast formatter for the common dialects, csv-stringify for the rest. */
  const format = (batchRows: Iterable<Row>, withHeader: boolean): string => {
    if (fast === undefined) {
      return stringify(
        batchRows as unknown[],
        {
          ...stringifyOptions,
          cast: stringifyCast(binary),
          header: withHeader,
          columns: objectRows ? columns : undefined,
        } as CsvStringifyOptions,
      );
    }
    formatter ??= csvFormatter(fast, objectRows ? columns : undefined);
    return (withHeader && columns ? csvHeader(fast, columns) : '') + formatter(batchRows);
  };

  let viewer: RowViewer | undefined;
  /** The rows of an Arrow batch as one reused read-only view each (no object per row), when the fast formatter writes. */
  const views = (batch: Batch): Iterable<Row> | undefined => {
    if (fast === undefined || batch.hasRows || !batch.hasArrow || !isViewable(batch.arrow)) return undefined;
    const recordBatch = batch.arrow;
    if (viewer?.fits(recordBatch)) viewer.bind(recordBatch);
    else viewer = new RowViewer(recordBatch);
    const v = viewer;
    const count = recordBatch.numRows;
    return {
      *[Symbol.iterator]() {
        for (let i = 0; i < count; i++) yield v.at(i);
      },
    };
  };

  return new BatchSink<ToCsvResult>({
    name,
    async write(batch) {
      output ??= await open();
      const count = batch.numRows;
      if (count === 0) return;
      const viewed = views(batch);
      const batchRows: Iterable<Row> = viewed ?? batch.rows;
      // a view batch's rows all have its columns: its first row stands for all
      const sample = viewed ? [viewer!.at(0)] : (batchRows as Row[]);
      objectRows ??= !Array.isArray(sample[0]);
      let first = false;
      if (objectRows && columns === undefined) {
        // the source's column list when it has one (object keys put integer-like names first)
        columns = batch.columns ? [...batch.columns] : keysOf(sample);
        first = true;
      } else if (rows === 0) first = true;
      if (objectRows && columnsOption === undefined) {
        known ??= new Set(columns);
        // a key the header lacks would be dropped silently by csv-stringify: refuse instead
        for (const row of sample) {
          for (const key in row) {
            if (!known.has(key)) {
              throw new FormatError(
                `row has column \`${key}\`, which the CSV header [${columns?.join(',')}] lacks; pass options.columns to choose the columns`,
                { stage: name, file: path, batch: batch.position.index },
              );
            }
          }
        }
      }
      const text = format(batchRows, header && first && objectRows);
      rows += count;
      await output.write(text);
    },
    async finish() {
      output ??= await open();
      if (rows === 0 && header && columns)
        await output.write(
          fast ? csvHeader(fast, columns) : stringify([], { header: true, columns } as CsvStringifyOptions),
        );
      const bytes = await output.commit();
      return { path, rows, bytes, columns };
    },
    async abort(error) {
      if (keepForResume && output?.release) await output.release();
      else await output?.abort(error);
    },
    checkpoint: {
      identity: {
        sink: 'toCsv',
        path: path === undefined ? null : resolvePath(path),
        options: JSON.parse(JSON.stringify(opts)) as CheckpointJson,
      },
      refuse:
        path === undefined
          ? 'toCsv writes to a stream, which cannot be continued after a crash'
          : gzip
            ? 'toCsv cannot continue a gzip stream after a crash; write plain CSV (and compress it afterwards)'
            : undefined,
      async commit() {
        // snapshot first (writes go on during the fsync); nothing written yet: nothing to commit
        if (output === undefined) return { rows: 0, state: null };
        const state = { rows, columns: columns ?? null, objectRows: objectRows ?? null };
        const { tempPath, length } = await output.sync!();
        return { rows: state.rows, state: { ...state, tempPath, length } };
      },
      async resume(state) {
        if (state === null) return;
        const s = state as {
          tempPath: string;
          length: number;
          rows: number;
          columns: string[] | null;
          objectRows: boolean | null;
        };
        resumeFrom = { tempPath: s.tempPath, length: s.length };
        rows = s.rows;
        if (s.columns) columns = s.columns;
        if (s.objectRows !== null) objectRows = s.objectRows;
        output = await open();
      },
      keep(on) {
        keepForResume = on;
      },
    },
  });
}

/** Column names of object rows, in order of first appearance. */
function keysOf(rows: readonly Row[]): string[] {
  const seen = new Set<string>();
  for (const row of rows) for (const key in row) seen.add(key);
  return [...seen];
}
