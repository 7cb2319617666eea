/**
 * The glue between the file sinks and the partitioned writer: splits the partition options from
 * the format's own, validates both at once (a throwaway single-file sink opens nothing), and
 * returns the partitioned sink whose per-file writers are the format's ordinary sinks. The
 * factory is passed in, so sinks/ and lib/dataset/ do not import each other in a cycle.
 */
import type { BatchSink } from '../core/sink.ts';
import { STAGE } from '../core/stage.ts';
import { ValidationError, describeValue } from '../core/errors.ts';
import type { CheckpointJson } from '../observe/checkpoint.ts';
import {
  isPartitionedRequest as isPartitionedOptions,
  partitionedSink,
  splitPartitionOptions,
  type PartitionedResult,
} from './partitioned-writer.ts';
import { isHttpUrl, isS3Url, redactUrl } from './remote/url.ts';
import { uploadSink } from './remote/upload-sink.ts';
import { withoutPath } from './remote/upload-checkpoint.ts';
import { appendRefusal } from './partitioned-resume.ts';

/**
 * True when a sink must hand its write to {@link partitionedWrite}: `options` ask for a
 * partitioned tree, or `target` is a URL (an `s3://` target is written locally, then uploaded).
 */
export function isPartitionedRequest(options: unknown, target?: unknown): boolean {
  return isPartitionedOptions(options) || isS3Url(target) || isHttpUrl(target);
}

/**
 * A partitioned write with `factory` as the per-file sink (`toParquet`, `toCsv`, `toArrow`,
 * `toJsonl`), or a write to `s3://` (one file, or a partitioned tree under a prefix).
 */
export function partitionedWrite<O extends object>(
  dir: unknown,
  options: O,
  factory: (path: string, options?: O) => BatchSink<unknown>,
  name: string,
  extension: string,
): BatchSink<PartitionedResult> {
  if (isHttpUrl(dir))
    throw new ValidationError(
      `Expected \`path\` to be a local path or an s3:// URL (HTTP targets are not written), got ${describeValue(redactUrl(dir))}`,
    );
  if (isS3Url(dir)) return remoteWrite(dir, options ?? ({} as O), factory, name, extension);
  const { settings, rest } = splitPartitionOptions(options, extension);
  factory('partition-option-check', rest as O).destroy();
  const fileOptions = perFileOptions(rest, extension) as O;
  return partitionedSink(dir as string, settings, {
    name,
    extension,
    openFile: (path) => factory(path, fileOptions),
    options: jsonOf(rest),
  });
}

/**
 * The format's options for each file of a tree. A Parquet file keeps its row groups' encoding on
 * the main thread unless asked otherwise: each open file had an encoder thread of its own (a V8
 * isolate each), so 5 open partitions took a 1M-row write from 318 to 535 MB of peak RSS and from
 * 3.2 to 4.3 s on 2 cores.
 */
export function perFileOptions(rest: object, extension: string): object {
  if (extension !== 'parquet' || (rest as { encoderThread?: unknown }).encoderThread !== undefined) return rest;
  return { ...rest, encoderThread: false };
}

/** Options as JSON (functions by their source), for the checkpoint fingerprint. */
function jsonOf(value: object): CheckpointJson {
  return JSON.parse(
    JSON.stringify(value, (_key, v: unknown) =>
      typeof v === 'function' ? String(v) : typeof v === 'bigint' ? v.toString() : v,
    ),
  ) as CheckpointJson;
}

/** An `s3://` target: the format's sink (or the partitioned writer) writes locally, then the result is uploaded. */
function remoteWrite<O extends object>(
  url: string,
  options: O,
  factory: (path: string, options?: O) => BatchSink<unknown>,
  name: string,
  extension: string,
): BatchSink<PartitionedResult> {
  if (!isPartitionedOptions(options)) {
    // the key's base name, as the local file will have it: its extension means something (`.gz`)
    const probe = factory(url.slice(url.lastIndexOf('/') + 1) || 'output', options);
    const hooks = probe.checkpointHooks;
    probe.destroy();
    // resumable as the format's local file is (toParquet, toCsv), in the checkpoint directory
    const resume = hooks && { identity: withoutPath(hooks.identity), refuse: hooks.refuse };
    return uploadSink(
      url,
      name,
      { kind: 'file', resume },
      (path) => factory(path, options),
      probe[STAGE].capabilities.accepts,
    ) as unknown as BatchSink<PartitionedResult>;
  }
  const { settings, rest } = splitPartitionOptions(options, extension);
  factory('partition-option-check', rest as O).destroy();
  const fileOptions = perFileOptions(rest, extension) as O;
  const { partitionBy, fileName, existing } = settings;
  const json = jsonOf(rest);
  return uploadSink<PartitionedResult>(
    url,
    name,
    {
      kind: 'tree',
      existing,
      resume: {
        identity: { partitionBy, fileName, existing, options: json },
        // as a local tree (partitioned-resume.ts): a run killed while it uploads would add its objects again
        ...(existing === 'append' ? { refuse: appendRefusal(name, redactUrl(url)) } : {}),
      },
    },
    (path) =>
      partitionedSink(path, settings, {
        name,
        extension,
        openFile: (file) => factory(file, fileOptions),
        options: json,
      }) as BatchSink<unknown>,
    ['rows', 'arrow'],
  );
}
