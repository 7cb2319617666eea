/**
 * `toParquet`: writes rows to a Parquet file (see `lib/parquet/writer.ts`) that appears under its
 * name only when the pipeline succeeds. A thin adapter: the format work is in the writer.
 */
import { BatchSink } from '../lib/core/sink.ts';
import { ValidationError, describeValue } from '../lib/core/errors.ts';
import { checkWriteOptions } from '../lib/formats/parquet/write/options.ts';
import type { ParquetWriteOptions } from '../lib/formats/parquet/writer.ts';
import { ParquetSinkWriter, type ToParquetResult } from './parquet/writer.ts';
import { parquetCheckpoint } from './parquet/resume.ts';
import { isPartitionedRequest, partitionedWrite } from '../lib/dataset/sinks.ts';
import type { PartitionOptions, PartitionedResult } from '../lib/dataset/partitioned-writer.ts';

/** Options of {@link toParquet}: `schema`, `compression` (default `'snappy'`), `rowGroupSize` (default 100000), `rowGroupBytes` (default `'32MB'`), `pageBytes` (default `'1MB'`). */
export type ToParquetOptions = ParquetWriteOptions & PartitionOptions;

export type { ToParquetResult } from './parquet/writer.ts';

/**
 * Writes batches to a Parquet file with spillway's own column encoder, one row group at a time:
 * Arrow batches (e.g. `fromCsv(..., { output: 'arrow' })`) column by column, row batches value by
 * value. The schema is declared (`schema`) or inferred from the first batch (rows: numbers as
 * DOUBLE, bigint as INT64, Date as TIMESTAMP_MILLIS, strings as UTF8, arrays, plain objects and
 * Maps as LIST, STRUCT and MAP, values that agree on no one type as JSON text;
 * Arrow: see lib/parquet/writer.ts, List/Struct/Map as LIST/STRUCT/MAP); a column whose type drifts between Arrow batches is widened
 * while the first row group is buffered, else refused with a SchemaMismatchError; a value that does not
 * fit its column, or a column the inferred schema lacks, fails the pipeline rather than being
 * coerced or dropped. The file is written under a temporary name and renamed on success; on
 * failure or abort nothing is left under `path`.
 *
 * @param path the file to write
 * @param options see {@link ToParquetOptions}
 * @example
 * ```ts
 * const { output } = await pipeline(fromCsv('in.csv', { cast: true }), toParquet('out.parquet', { compression: 'zstd' }));
 * console.log(output.rows, output.bytes, output.rowGroups);
 * ```
 */
export function toParquet(
  path: string,
  options: ToParquetOptions & { partitionBy: readonly string[] },
): BatchSink<PartitionedResult>;
export function toParquet(path: string, options?: ToParquetOptions): BatchSink<ToParquetResult>;
export function toParquet(
  path: string,
  options?: ToParquetOptions,
): BatchSink<ToParquetResult> | BatchSink<PartitionedResult> {
  if (isPartitionedRequest(options, path))
    return partitionedWrite(
      path,
      options!,
      toParquet as (p: string, o?: ToParquetOptions) => BatchSink<unknown>,
      'toParquet',
      'parquet',
    );
  if (typeof path !== 'string' || path.length === 0)
    throw new ValidationError(`Expected \`path\` to be a file path, got ${describeValue(path)}`);
  // validates every option now, synchronously; the temporary file is created on the first batch
  checkWriteOptions(options);
  const sink = new ParquetSinkWriter(path, options);
  return new BatchSink<ToParquetResult>({
    name: ParquetSinkWriter.stage,
    // writes Arrow column by column: a source may produce Arrow for it (format negotiation)
    capabilities: { accepts: ['rows', 'arrow'] },
    write: (batch, context) => sink.write(batch, context.governor),
    finish: (_context, _stats, point) => sink.finish(point),
    abort: () => sink.abort(),
    checkpoint: parquetCheckpoint(sink),
  });
}
