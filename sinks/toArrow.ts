/**
 * `toArrow`: writes batches as an Arrow IPC file or stream. Arrow batches are written as they
 * are (no detour through rows); row batches are converted once, with the schema inferred. A
 * path is written with {@link ArrowFileWriter} (awaited writes, temporary name, rename on
 * success); a Writable gets the bytes with its own backpressure.
 *
 * One file has one schema. The first batch sets it; a later batch that is narrower (a column
 * all null, or missing, or int where the file has float) is conformed to it; a later batch that
 * is wider but losslessly so (int -> float, int32 -> int64, null -> any type, a new column)
 * widens it: what was written so far is rewritten under the wider schema, batch by batch (each
 * column can widen only a couple of times, so this happens rarely). A batch that cannot be
 * unified (string where the file has numbers) fails with SchemaMismatchError naming the batch:
 * never silently dropped, unlike apache-arrow's own writer (arrow-js#388).
 */
import { isPartitionedRequest, partitionedWrite } from '../lib/dataset/sinks.ts';
import type { PartitionedResult } from '../lib/dataset/partitioned-writer.ts';
import type { Writable } from 'node:stream';
import { BatchSink } from '../lib/core/sink.ts';
import { resolveArrowOptions, type ToArrowOptions, type ToArrowResult } from './arrow/options.ts';
import type { ArrowSinkWriter } from './arrow/writer.ts';
import { lazyImport } from '../lib/core/lazy-import.ts';

// the writer (and apache-arrow) loads with the first batch, not with `import 'spillway'`
const writerModule = lazyImport(() => import('./arrow/writer.ts'));

export type { ToArrowOptions, ToArrowResult } from './arrow/options.ts';

/**
 * Writes batches as Arrow IPC (see the module comment for how schemas are unified). A path is
 * written under a temporary name and renamed into place on success; on failure or abort nothing
 * is left under `path`, and a file already there is untouched.
 *
 * @param target a file path, or a Writable that receives the bytes (it is ended on success)
 * @param options see {@link ToArrowOptions}
 * @throws ValidationError at once for a bad option; the pipeline rejects with SchemaMismatchError
 *   for a batch that cannot be unified, IoError when the file cannot be written
 * @example
 * ```ts
 * const { output } = await pipeline(fromParquet('in.parquet'), toArrow('out.arrow', { compression: 'zstd' }));
 * console.log(output.rows, output.bytes);
 * ```
 */
export function toArrow(
  target: string,
  options: ToArrowOptions & { partitionBy: readonly string[] },
): BatchSink<PartitionedResult>;
export function toArrow(target: string | Writable, options?: ToArrowOptions): BatchSink<ToArrowResult>;
export function toArrow(
  target: string | Writable,
  options?: ToArrowOptions,
): BatchSink<ToArrowResult> | BatchSink<PartitionedResult> {
  if (isPartitionedRequest(options, target))
    return partitionedWrite(
      target,
      options!,
      toArrow as (p: string, o?: ToArrowOptions) => BatchSink<unknown>,
      'toArrow',
      'arrow',
    );
  const settings = resolveArrowOptions(target, options);
  let sink: ArrowSinkWriter | undefined;
  const open = async (): Promise<ArrowSinkWriter> =>
    (sink ??= new (await writerModule.load()).ArrowSinkWriter(settings));
  return new BatchSink<ToArrowResult>({
    name: 'toArrow',
    // writes Arrow column by column: a source may produce Arrow for it (format negotiation)
    capabilities: { accepts: ['rows', 'arrow'] },
    write: async (batch, context, stats) => (await open()).write(batch, stats, context.signal),
    finish: async (_context, _stats, point) => (await open()).finish(point),
    abort: async (error) => (await open()).abort(error),
  });
}
