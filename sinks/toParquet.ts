/**
 * `toParquet`: writes rows to a Parquet file (see `lib/parquet/writer.ts`) that appears under its
 * name only when the pipeline succeeds. A thin adapter: the format work is in the writer.
 */
import { BatchSink } from '../lib/core/sink.ts';
import { FormatError, ValidationError, describeValue, withContext } from '../lib/core/errors.ts';
import { ParquetFileWriter, checkWriteOptions } from '../lib/formats/parquet/writer.ts';
import type { ParquetWriteOptions, ParquetWriterState } from '../lib/formats/parquet/writer.ts';
import type { CheckpointJson } from '../lib/observe/checkpoint.ts';
import { resolve as resolvePath } from 'node:path';
import { unlink } from 'node:fs/promises';
import { isPartitionedRequest, partitionedWrite } from '../lib/dataset/sinks.ts';
import type { PartitionOptions, PartitionedResult } from '../lib/dataset/partitioned-writer.ts';

/** Options of {@link toParquet}: `schema`, `compression` (default `'snappy'`), `rowGroupSize` (default 100000), `rowGroupBytes` (default `'32MB'`). */
export type ToParquetOptions = ParquetWriteOptions & PartitionOptions;

/** Output of {@link toParquet}. */
export interface ToParquetResult {
  /** The file written. */
  path: string;
  rows: number;
  /** Size of the file in bytes. */
  bytes: number;
  rowGroups: number;
}

/**
 * Writes batches to a Parquet file with spillway's own column encoder, one row group at a time:
 * Arrow batches (e.g. `fromCsv(..., { output: 'arrow' })`) column by column, row batches value by
 * value. The schema is declared (`schema`) or inferred from the first batch (rows: numbers as
 * DOUBLE, bigint as INT64, Date as TIMESTAMP_MILLIS, strings as UTF8, other objects as JSON;
 * Arrow: see lib/parquet/writer.ts); a column whose type drifts between Arrow batches is widened
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
  const name = 'toParquet';
  // validates every option now, synchronously; the temporary file is created on the first batch
  checkWriteOptions(options);
  let opening: Promise<ParquetFileWriter> | undefined;
  let writer: ParquetFileWriter | undefined;
  let keepForResume = false;

  function withStage(error: unknown): Error {
    return withContext(error as Error, { stage: name, file: path });
  }

  async function ensureOpen(): Promise<ParquetFileWriter> {
    opening ??= ParquetFileWriter.open(path, options);
    writer ??= await opening;
    return writer;
  }

  return new BatchSink<ToParquetResult>({
    name,
    async write(batch) {
      try {
        const w = await ensureOpen();
        // Arrow batches go in column by column (no row objects); rows otherwise
        if (batch.hasArrow) {
          await w.writeArrow(batch.arrow, batch.position.index);
          return;
        }
        const rows = batch.rows;
        if (rows.length > 0 && Array.isArray(rows[0])) {
          throw new FormatError(
            'toParquet writes object rows (keyed by column name), got array rows; read CSV with a header or map rows to objects',
            { batch: batch.position.index },
          );
        }
        await w.write(rows as Record<string, unknown>[], batch.columns);
      } catch (error) {
        throw withStage(error);
      }
    },
    async finish() {
      try {
        const w = await ensureOpen();
        await w.commit();
        return { path, rows: w.rowsWritten, bytes: w.bytesWritten, rowGroups: w.rowGroupsWritten };
      } catch (error) {
        throw withStage(error);
      }
    },
    async abort() {
      const w = writer ?? (await opening?.catch(() => undefined));
      if (keepForResume) await w?.release();
      else await w?.abort();
    },
    checkpoint: {
      identity: {
        sink: 'toParquet',
        path: resolvePath(path),
        options: JSON.parse(JSON.stringify(options ?? {})) as CheckpointJson,
      },
      async commit() {
        try {
          // the writer snapshots synchronously (writes go on during the fsync)
          const w = writer;
          if (w === undefined) return { rows: 0, state: null };
          const state = await w.checkpoint();
          // before the first complete row group nothing is committed; the temporary file is named so a resumed run removes it
          return {
            rows: state?.rows ?? 0,
            state: (state ?? { tempPath: w.tempPath, empty: true }) as unknown as CheckpointJson,
          };
        } catch (error) {
          throw withStage(error);
        }
      },
      async resume(state) {
        const s = state as unknown as ParquetWriterState | { tempPath: string; empty: true } | null;
        if (s === null) return;
        if ('empty' in s) {
          await unlink(s.tempPath).catch(() => undefined);
          return;
        }
        try {
          writer = await ParquetFileWriter.resume(path, options, s);
          opening = Promise.resolve(writer);
        } catch (error) {
          throw withStage(error);
        }
      },
      keep(on) {
        keepForResume = on;
      },
    },
  });
}
