/**
 * Partitioned output: `toParquet(dir, { partitionBy: ['date', 'symbol'] })` (and toCsv, toArrow)
 * writes a hive tree (`dir/date=2026-11-30/symbol=ABC/part-0.parquet`) that DuckDB, Polars and
 * Spark read with hive partitioning. Each partition's rows go to the format's ordinary
 * single-file sink, so every file is written and committed exactly as a single-file write is.
 * What this adds: routing rows to partitions (partition-split.ts), bounds on open files and
 * buffered bytes (partition-files.ts), and an atomic commit of the whole tree: files are written
 * under a temporary directory beside the target, renamed over it on success, removed on failure
 * or abort. With a checkpoint, the temporary tree survives a crash and a resumed run continues it
 * (partitioned-resume.ts).
 */
import { nodeCrypto } from '../core/crypto.ts';
import { rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { BatchSink } from '../core/sink.ts';
import { ValidationError, describeValue } from '../core/errors.ts';
import { PartitionFiles } from './partition-files.ts';
import type { PartitionFormat, PartitionSettings, PartitionedResult } from './partition-options.ts';
import { finishTree, startTree, type PartitionedTarget } from './partition-tree.ts';
import { splitPartitions } from './partition-split.ts';
import { partitionedCheckpoint } from './partitioned-resume.ts';

export {
  PARTITION_OPTION_KEYS,
  isPartitionedRequest,
  splitPartitionOptions,
  type PartitionFormat,
  type PartitionOptions,
  type PartitionSettings,
  type PartitionedResult,
} from './partition-options.ts';
export { partitionSegment } from './partition-split.ts';
export { listTree } from './partition-tree.ts';

/**
 * A sink that writes a hive tree under `dir` (see the module comment).
 * @param dir the target directory
 */
export function partitionedSink(
  dir: string,
  settings: PartitionSettings,
  format: PartitionFormat,
): BatchSink<PartitionedResult> {
  if (typeof dir !== 'string' || dir.length === 0)
    throw new ValidationError(`Expected \`path\` to be a directory path, got ${describeValue(dir)}`);
  const runId = nodeCrypto().randomUUID().slice(0, 8);
  const temp = join(dirname(dir), `.${basename(dir)}.tmp-${runId}`);
  const target: PartitionedTarget = {
    dir,
    name: format.name,
    settings,
    files: new PartitionFiles(settings, format, temp, runId),
    keep: false,
    started: undefined,
  };
  const files = target.files;
  return new BatchSink<PartitionedResult>({
    name: format.name,
    // Arrow batches are split on their buffers (partition-split.ts): a source gives them Arrow, so
    // every file keeps the input's types (rows typed each file's columns from its own values)
    capabilities: { accepts: ['rows', 'arrow'] },
    checkpoint: partitionedCheckpoint(target, format),
    async write(batch, context) {
      files.context = context;
      await (target.started ??= startTree(target));
      files.nextBatch();
      for (const [key, part] of splitPartitions(batch, settings.partitionBy)) {
        // destroyed mid-batch: open no more files (the abort runs once this write settles)
        context.signal.throwIfAborted();
        await files.write(key, part);
      }
      await files.relieve();
    },
    async finish(context, _stats, point) {
      files.context = context;
      await (target.started ??= startTree(target));
      return finishTree(target, point);
    },
    async abort(error) {
      await files.abort(error);
      // a checkpoint names the temporary tree: a resumed run continues it
      if (!target.keep) await rm(files.temp, { recursive: true, force: true });
    },
  });
}
