/**
 * `fromParquet`: a Parquet file read row group by row group (see `lib/parquet/reader.ts`) and
 * delivered as batches of rows. A thin adapter: the format work is in the reader.
 */
import { Batch } from '../lib/core/batch.ts';
import { BatchSource } from '../lib/core/source.ts';
import { SpillwayError, ValidationError, describeValue, withContext } from '../lib/core/errors.ts';
import { expectInteger, expectOneOf, expectOptions, optionKeys } from '../lib/core/validate.ts';
import type { ParquetReader } from '../lib/formats/parquet/reader.ts';
import { loadParquetReader, parquetReaderLoaded } from '../lib/formats/parquet/load.ts';
import type { Int64Mode } from '../lib/formats/parquet/types.ts';
import type { StageContext, StageStats } from '../lib/core/stage.ts';
import { resolve as resolvePath } from 'node:path';
import type { DatasetInput } from '../lib/dataset/expand.ts';
import type { DatasetOptions } from '../lib/dataset/multi-file.ts';
import { isDatasetRequest, parquetDataset } from '../lib/dataset/sources.ts';
import { PRUNE_WHERE, rowGroupPruner } from '../lib/dataset/pushdown.ts';
import type { Predicate } from '../lib/dataset/predicate.ts';

/** Options of {@link fromParquet} (dataset options: see docs/datasets.md). */
export interface FromParquetOptions extends DatasetOptions {
  /** Top-level columns to read, in this order (default: all); an unknown name is an error. */
  columns?: readonly string[];
  /** Rows per batch (default 10000). */
  batchSize?: number;
  /** INT64 as `'number'` (throws on an unsafe value), `'bigint'`, or `'auto'` (default: number when safe, else bigint). */
  int64?: Int64Mode;
  /**
   * `'rows'` (default): batches of row objects. `'arrow'`: batches holding only an Arrow
   * RecordBatch built straight from the decoded pages (no row objects; see
   * `lib/parquet/read/arrow.ts` for the types); `batch.rows` converts on first use.
   */
  output?: 'rows' | 'arrow';
  /** Invalid UTF-8 in a string column: `'error'` (default: a FormatError naming file and column) or `'replace'` (U+FFFD). */
  invalidUtf8?: 'error' | 'replace';
  /** A nested page holding more values than this is refused rather than decoded (default 4,000,000, about 320 MB). */
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
/**
 * Reads a Parquet file as batches of rows (or Arrow RecordBatches with `output: 'arrow'`), row
 * group by row group and page by page (never a whole file, nor a whole row group of a flat
 * column), with column projection. Page CRCs are checked when the writer stored them. Types are mapped as in `lib/parquet/types.ts` (timestamps and dates as
 * Date, decimals as exact strings, nulls as null). ZSTD, LZ4, GZIP, Snappy and Brotli pages are
 * read. The row count from the footer feeds `progress().totalRows`.
 *
 * @param path the Parquet file
 * @param options see {@link FromParquetOptions}
 * @throws ValidationError at once for a bad option; the pipeline rejects with IoError,
 *   FormatError or UnsupportedError naming the file when it cannot be read
 * @example
 * ```ts
 * await pipeline(fromParquet('events.parquet', { columns: ['ts', 'user'] }), toCsv('events.csv'));
 * ```
 */
export function fromParquet(input: DatasetInput, options?: FromParquetOptions): BatchSource<Record<string, unknown>> {
  if (isDatasetRequest(input, options))
    return parquetDataset(input, options, fromParquet) as BatchSource<Record<string, unknown>>;
  const path = input as string;
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
  if (opts.columns !== undefined && (!Array.isArray(opts.columns) || opts.columns.some((c) => typeof c !== 'string'))) {
    throw new ValidationError(
      `Expected \`options.columns\` to be an array of column names, got ${describeValue(opts.columns)}`,
    );
  }
  if (opts.name !== undefined && (typeof opts.name !== 'string' || opts.name.length === 0)) {
    throw new ValidationError(`Expected \`options.name\` to be a non-empty string, got ${describeValue(opts.name)}`);
  }
  const stage = opts.name ?? 'fromParquet';
  const pruneWhere = (opts as { [PRUNE_WHERE]?: Predicate })[PRUNE_WHERE];
  const columns = opts.columns === undefined ? undefined : [...opts.columns];
  let rowsRead = 0;
  let totalRows: number | undefined;
  let totalBytes: number | undefined;
  let groupsRead = 0;
  let numGroups = 0;
  /** On resume: rows read by an earlier run (their row groups are not decoded again). */
  let resumeRows = 0;
  let firstIndex = 0;

  /** Adds the stage and file to a reader error (a foreign error is translated first), keeping the error itself. */
  function withStage(error: unknown): Error {
    const e = error instanceof SpillwayError ? error : parquetReaderLoaded()!.translateError(error, path);
    return withContext(e, { stage, file: path });
  }

  async function* open(context: StageContext, stats: StageStats): AsyncGenerator<Batch<Record<string, unknown>>> {
    stats.details.reader = 'hyparquet-pages';
    stats.details.output = output;
    // hyparquet loads here, when the stage opens, not when spillway is imported
    const { openParquet } = await loadParquetReader();
    let reader: ParquetReader;
    try {
      const rowGroupFilter = pruneWhere === undefined ? undefined : rowGroupPruner(pruneWhere, columns, stats);
      reader = await openParquet(path, {
        int64,
        batchSize,
        invalidUtf8,
        ...(maxNestedPageValues === undefined ? {} : { maxNestedPageValues }),
        ...(columns ? { columns } : {}),
        ...(rowGroupFilter ? { rowGroupFilter } : {}),
      });
    } catch (error) {
      throw withStage(error);
    }
    totalRows = reader.numRows;
    numGroups = reader.numRowGroups;
    stats.details.rowGroups = numGroups;
    // columns whose names were empty or repeated in the file, and the names they were given
    if (reader.renamed.length > 0)
      stats.details.renamedColumns = reader.renamed
        .map((r) => `${r.from === '' ? '(empty)' : r.from} -> ${r.to}`)
        .join(', ');
    if (reader.statisticsIgnored) stats.details.statisticsIgnored = true;
    // a pending row group decode cannot be interrupted, but the next one is never started
    const onAbort = (): void => void reader.close().catch(() => undefined);
    context.signal.addEventListener('abort', onAbort, { once: true });
    let index = firstIndex;
    try {
      totalBytes = reader.byteLength;
      if (output === 'arrow') {
        for await (const part of reader.recordBatches(resumeRows)) {
          groupsRead = part.rowGroup + 1;
          const batch = Batch.fromArrow(part.batch, { source: path, index: index++, rowStart: part.rowStart }) as Batch<
            Record<string, unknown>
          >;
          rowsRead = part.rowStart + part.batch.numRows;
          yield batch;
        }
      } else {
        for await (const part of reader.batches(resumeRows)) {
          groupsRead = part.rowGroup + 1;
          const batch = new Batch(part.rows, { source: path, index: index++, rowStart: part.rowStart });
          rowsRead = part.rowStart + part.rows.length;
          yield batch;
        }
      }
    } catch (error) {
      throw withStage(error);
    } finally {
      context.signal.removeEventListener('abort', onAbort);
      stats.details.bytesRead = reader.bytesRead;
      await reader.close();
    }
  }

  return new BatchSource<Record<string, unknown>>({
    name: stage,
    open,
    checkpoint: {
      identity: {
        source: 'fromParquet',
        file: resolvePath(path),
        columns: columns ?? null,
        batchSize: batchSize ?? null,
        int64: int64 ?? null,
        ...(output === 'arrow' ? { output } : {}),
      },
      file: path,
      state: (position, rowsThrough) => ({ rows: rowsThrough, index: position.index + 1 }),
      resume: (state) => {
        const { rows, index } = state as { rows: number; index: number };
        resumeRows = rows;
        rowsRead = rows;
        firstIndex = index;
      },
    },
    progress: () => ({
      rows: rowsRead,
      // bytes: the share of the file's row groups decoded so far (cheap; exact at the end)
      bytes: totalBytes === undefined || numGroups === 0 ? 0 : Math.round((totalBytes * groupsRead) / numGroups),
      ...(totalBytes === undefined ? {} : { totalBytes }),
      ...(totalRows === undefined ? {} : { totalRows }),
    }),
  });
}
