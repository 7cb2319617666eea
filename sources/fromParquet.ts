/**
 * `fromParquet`: a Parquet file read row group by row group (see `lib/formats/parquet/reader.ts`)
 * and delivered as batches of rows or of Arrow. The factory validates options
 * (lib/formats/parquet/read/options.ts), opens the file and reads with the rows or the Arrow
 * reader (read/batch-reader.ts), from where the checkpoint says when resuming (read/resume.ts).
 */
import type { Batch } from '../lib/core/batch.ts';
import { BatchSource } from '../lib/core/source.ts';
import type { StageContext, StageStats } from '../lib/core/stage.ts';
import type { DatasetInput } from '../lib/dataset/expand.ts';
import { isDatasetRequest, parquetDataset } from '../lib/dataset/sources.ts';
import type { ParquetCounters } from '../lib/formats/parquet/read/batch-reader.ts';
import { lazyImport } from '../lib/core/lazy-import.ts';
import { FormChoice } from '../lib/core/negotiate.ts';
import { resolveParquetOptions, type FromParquetOptions } from '../lib/formats/parquet/read/options.ts';
import { ParquetResume } from '../lib/formats/parquet/read/resume.ts';

// the page reader loads at open, not with `import 'spillway'`
const readerModule = lazyImport(() => import('../lib/formats/parquet/read/batch-reader.ts'));

export type { FromParquetOptions } from '../lib/formats/parquet/read/options.ts';

/**
 * Reads a Parquet file as batches of rows (or Arrow RecordBatches with `output: 'arrow'`; without
 * `output`, Arrow when the next stage reads it and every column's values are the same both ways), row
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
  const plan = resolveParquetOptions(input, options);
  const counters: ParquetCounters = {
    rowsRead: 0,
    totalRows: undefined,
    totalBytes: undefined,
    groupsRead: 0,
    numGroups: 0,
  };
  const resume = new ParquetResume(plan, counters);
  // without `output` (or `int64`, which shapes row values), the pipeline chooses (lib/core/negotiate.ts)
  const choice = new FormChoice(options?.output === undefined && options?.int64 === undefined);

  async function* open(context: StageContext, stats: StageStats): AsyncGenerator<Batch<Record<string, unknown>>> {
    stats.details.reader = 'hyparquet-pages';
    const { openStageReader, ParquetArrowReader, ParquetRowsReader, parquetError, rowsOnlyColumn } =
      await readerModule.load();
    context.signal.throwIfAborted(); // destroyed while the reader loaded: open nothing
    const project = choice.projected;
    const reader = await openStageReader(project ? { ...plan, project } : plan, stats);
    // applied when the file has every column asked for (ParquetReadOptions.projectIfPresent)
    if (project && reader.columns.length === project.length)
      stats.details.projection = reader.columns.map((c) => c.name).join(', ');
    let output = plan.output;
    if (choice.chosen === 'arrow') {
      // Arrow only where it hands every stage the values rows would (else a column's type could change)
      const other = rowsOnlyColumn(reader);
      output = other === undefined ? 'arrow' : 'rows';
      choice.note(stats, output, other?.why);
    } else choice.note(stats);
    stats.details.output = output;
    counters.totalRows = reader.numRows;
    counters.numGroups = reader.numRowGroups;
    // a pending row group decode cannot be interrupted, but the next one is never started
    const onAbort = (): void => void reader.close().catch(() => undefined);
    context.signal.addEventListener('abort', onAbort, { once: true });
    // a negotiated Arrow read goes on as rows at a value Arrow cannot hold; one asked for fails
    const path =
      output === 'arrow'
        ? new ParquetArrowReader(plan, counters, choice.chosen === 'arrow')
        : new ParquetRowsReader(plan, counters);
    try {
      // destroyed while the file opened: the listener above never runs, the finally closes it
      context.signal.throwIfAborted();
      counters.totalBytes = reader.byteLength;
      yield* path.read(reader, resume.start);
    } catch (error) {
      throw parquetError(plan, error);
    } finally {
      context.signal.removeEventListener('abort', onAbort);
      stats.details.bytesRead = reader.bytesRead;
      if (counters.rowsFrom !== undefined) stats.details.rowsFrom = counters.rowsFrom;
      await reader.close();
    }
  }

  return new BatchSource<Record<string, unknown>>({
    name: plan.stage,
    open,
    checkpoint: resume.hooks,
    offer: choice.offer,
    progress: () => {
      const { rowsRead, totalRows, totalBytes, groupsRead, numGroups } = counters;
      return {
        rows: rowsRead,
        // bytes: the share of the file's row groups decoded so far (cheap; exact at the end)
        bytes: totalBytes === undefined || numGroups === 0 ? 0 : Math.round((totalBytes * groupsRead) / numGroups),
        ...(totalBytes === undefined ? {} : { totalBytes }),
        ...(totalRows === undefined ? {} : { totalRows }),
      };
    },
  });
}
