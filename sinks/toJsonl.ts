/**
 * `toJsonl`: rows written as JSON Lines (one JSON object a line) to a file that appears under its
 * name only when the pipeline succeeds (`.gz` compressed by extension), or to a Writable. Bigints
 * are written as bare integers (lib/json-format.ts), so `fromJsonl` reads them back exactly.
 */
import type { Writable } from 'node:stream';
import { BatchSink } from '../lib/core/sink.ts';
import { refuseZstdOutputName } from '../lib/io/zstd-output-name.ts';
import { FormatError, ValidationError, describeValue } from '../lib/core/errors.ts';
import { expectBoolean, expectOptions } from '../lib/core/validate.ts';
import { openByteOutput, type ByteOutput } from '../lib/io/byte-output.ts';
import { jsonLineFormatter } from '../lib/formats/json/format.ts';
import { RowViewer, isViewable } from '../lib/core/row-view.ts';
import { isPartitionedRequest, partitionedWrite } from '../lib/dataset/sinks.ts';
import type { PartitionOptions, PartitionedResult } from '../lib/dataset/partitioned-writer.ts';

/** Options of {@link toJsonl}. */
export interface ToJsonlOptions extends PartitionOptions {
  /** Gzip the file; default: true when the path ends in `.gz`. A `.zst`/`.zstd` path is refused (no zstd output). */
  gzip?: boolean;
}

/** Output of {@link toJsonl}. */
export interface ToJsonlResult {
  /** The file written (undefined for a Writable). */
  path: string | undefined;
  rows: number;
  /** Bytes written (compressed bytes with gzip). */
  bytes: number;
}

const KEYS = new Set(['gzip', 'partitionBy', 'maxOpenFiles', 'maxBufferedBytes', 'fileName', 'existing']);

/**
 * Writes object rows as JSON Lines. Arrow batches are read through a row view (no row objects).
 *
 * @param target a file path or a Writable
 * @param options see {@link ToJsonlOptions}
 * @example
 * ```ts
 * await pipeline(fromParquet('events.parquet'), toJsonl('events.jsonl.gz'));
 * ```
 */
export function toJsonl(
  target: string,
  options: ToJsonlOptions & { partitionBy: readonly string[] },
): BatchSink<PartitionedResult>;
export function toJsonl(target: string | Writable, options?: ToJsonlOptions): BatchSink<ToJsonlResult>;
export function toJsonl(
  target: string | Writable,
  options?: ToJsonlOptions,
): BatchSink<ToJsonlResult> | BatchSink<PartitionedResult> {
  if (isPartitionedRequest(options, target))
    return partitionedWrite(
      target,
      options!,
      toJsonl as (p: string, o?: ToJsonlOptions) => BatchSink<unknown>,
      'toJsonl',
      'jsonl',
    );
  const opts = expectOptions(options);
  const unknown = Object.keys(opts).find((k) => !KEYS.has(k));
  if (unknown !== undefined) throw new ValidationError(`Unknown option \`options.${unknown}\` (expected gzip)`);
  if (
    typeof target !== 'string' &&
    (typeof target !== 'object' || target === null || typeof (target as Writable).write !== 'function')
  ) {
    throw new ValidationError(`Expected \`target\` to be a file path or a Writable, got ${describeValue(target)}`);
  }
  const path = typeof target === 'string' ? target : undefined;
  refuseZstdOutputName(path, 'toJsonl', '.jsonl');
  const gzip = expectBoolean(opts.gzip, 'options.gzip', path?.endsWith('.gz') ?? false);
  const name = 'toJsonl';
  const format = jsonLineFormatter();
  let output: ByteOutput | undefined;
  // an abort that lands while the file opens waits for it, or the file would stay
  let opening: Promise<ByteOutput> | undefined;
  const ensureOpen = async (): Promise<ByteOutput> => {
    opening ??= openByteOutput(target, { gzip, stage: name });
    output ??= await opening;
    return output;
  };
  let rows = 0;
  let viewer: RowViewer | undefined;

  return new BatchSink<ToJsonlResult>({
    name,
    async write(batch, context) {
      const out = await ensureOpen();
      const n = batch.numRows;
      if (n === 0) return;
      let text = '';
      if (!batch.hasRows && batch.hasArrow && isViewable(batch.arrow)) {
        const rb = batch.arrow;
        if (viewer?.fits(rb)) viewer.bind(rb);
        else viewer = new RowViewer(rb);
        for (let i = 0; i < n; i++) text += `${format(viewer.at(i))}\n`;
      } else {
        for (const row of batch.rows) {
          if (Array.isArray(row))
            throw new FormatError('toJsonl writes object rows, got array rows', {
              stage: name,
              file: path,
              batch: batch.position.index,
            });
          text += `${format(row)}\n`;
        }
      }
      rows += n;
      await out.write(text, context.signal);
    },
    async finish(_context, _stats, point) {
      const bytes = await (await ensureOpen()).commit(point);
      return { path, rows, bytes };
    },
    async abort(error) {
      await (output ?? (await opening?.catch(() => undefined)))?.abort(error);
    },
  });
}
