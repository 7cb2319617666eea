/**
 * `toCsv`: writes rows as CSV, to a file that appears under its name only when the pipeline
 * succeeds (or to a Writable). The common dialects are formatted by lib/csv-format.ts; other
 * csv-stringify options go to csv-stringify, which writes the same bytes more slowly.
 */
import { isPartitionedRequest, partitionedWrite } from '../lib/dataset/sinks.ts';
import type { PartitionedResult } from '../lib/dataset/partitioned-writer.ts';
import type { Writable } from 'node:stream';
import { BatchSink } from '../lib/core/sink.ts';
import { resolveCsvOptions, type ToCsvOptions, type ToCsvResult } from './csv/options.ts';
import { CsvSinkWriter } from './csv/writer.ts';
import { csvCheckpoint } from './csv/resume.ts';

export type { ToCsvOptions, ToCsvResult } from './csv/options.ts';

/**
 * Writes rows as CSV. A path is written under a temporary name and renamed into place only when
 * every row is written, so an aborted or failed pipeline leaves no partial file under `path`.
 * Dates are written as ISO-8601 (an Arrow DATE as its day, a zone-less TIMESTAMP without its `Z`,
 * as DuckDB writes them), bigints as digits, binary values as hex (or base64 with
 * `binary: 'base64'`), nested values as the JSON text toJsonl writes for them (NaN and infinities
 * as bare tokens, bigints as bare digits, binary inside as base64), and null, undefined and an
 * empty string as an empty field (CSV cannot tell them apart).
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
  const sink = new CsvSinkWriter(resolveCsvOptions(target, options));
  return new BatchSink<ToCsvResult>({
    name: CsvSinkWriter.stage,
    write: (batch, context) => sink.write(batch, context.signal),
    finish: (_context, _stats, point) => sink.finish(point),
    abort: (error) => sink.abort(error),
    checkpoint: csvCheckpoint(sink),
    // Arrow batches are written from their buffers or through row views (sinks/csv/writer.ts)
    capabilities: { accepts: ['rows', 'arrow'] },
  });
}
