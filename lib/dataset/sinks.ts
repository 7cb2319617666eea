/**
 * The glue between the file sinks and the partitioned writer: splits the partition options from
 * the format's own, validates both at once (a throwaway single-file sink opens nothing), and
 * returns the partitioned sink whose per-file writers are the format's ordinary sinks. The
 * factory is passed in, so sinks/ and lib/dataset/ do not import each other in a cycle.
 */
import type { BatchSink } from '../core/sink.ts';
import { isPartitionedRequest, partitionedSink, splitPartitionOptions, type PartitionedResult } from './partitioned-writer.ts';

export { isPartitionedRequest };

/** A partitioned write with `factory` as the per-file sink (`toParquet`, `toCsv`, `toArrow`). */
export function partitionedWrite<O extends object>(dir: unknown, options: O, factory: (path: string, options?: O) => BatchSink<unknown>, name: string, extension: string): BatchSink<PartitionedResult> {
  const { settings, rest } = splitPartitionOptions(options, extension);
  factory('partition-option-check', rest as O).destroy();
  return partitionedSink(dir as string, settings, { name, extension, openFile: (path) => factory(path, rest as O) });
}
