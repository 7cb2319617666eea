/**
 * The options every file sink accepts for partitioned output (`partitionBy`, `maxOpenFiles`,
 * `maxBufferedBytes`, `fileName`, `existing`), their validation and split from the format's own,
 * what a partitioned write returns, and what a format provides to it.
 */
import type { BatchSink } from '../core/sink.ts';
import { ValidationError, describeValue } from '../core/errors.ts';
import { expectInteger, expectOneOf, parseBytes } from '../core/validate.ts';
import type { CheckpointJson } from '../observe/checkpoint.ts';

/** Options every file sink accepts for partitioned output. */
export interface PartitionOptions {
  /** Columns whose values name the directories (`key=value`), in this order. Their values are not written into the files. */
  partitionBy?: readonly string[];
  /** Most files open at once (default 64); the least recently used is closed when another is needed. */
  maxOpenFiles?: number;
  /** Most bytes (estimated from the batches) held by open writers before the largest is closed (default '256MB'). */
  maxBufferedBytes?: number | string;
  /**
   * File name in each partition directory: `{i}` is the file's number in its partition (0, 1, ...),
   * `{uuid}` a per-run id (default `part-{i}.<ext>`; with `existing: 'append'`, `part-{uuid}-{i}.<ext>`).
   */
  fileName?: string;
  /**
   * When the target directory exists: `'error'` (default), `'overwrite'` (the new tree replaces it
   * whole), or `'append'` (new files are added beside the old ones).
   */
  existing?: 'error' | 'overwrite' | 'append';
}

/** The partition-only option names, stripped before the single-file sink sees its options. */
export const PARTITION_OPTION_KEYS = [
  'partitionBy',
  'maxOpenFiles',
  'maxBufferedBytes',
  'fileName',
  'existing',
] as const;

/** Output of a partitioned write. */
export interface PartitionedResult {
  /** The directory written. */
  path: string;
  rows: number;
  /** Bytes of the files written. */
  bytes: number;
  /** Files written, relative to `path`, sorted. */
  files: string[];
  /** Distinct partitions written. */
  partitions: number;
  /** Times a writer was closed early (open-file or memory bound) and its partition went on in a new file. */
  rotations: number;
}

/** What a format provides: its single-file sink and its file extension. */
export interface PartitionFormat {
  name: string;
  extension: string;
  openFile(path: string): BatchSink<unknown>;
  /** The single-file sink's options as JSON, for the checkpoint fingerprint. */
  options?: CheckpointJson;
}

/** Validated partition options. */
export interface PartitionSettings {
  partitionBy: string[];
  maxOpenFiles: number;
  maxBufferedBytes: number;
  fileName: string;
  existing: 'error' | 'overwrite' | 'append';
}

/** True when `options` asks for a partitioned write. */
export function isPartitionedRequest(options: unknown): boolean {
  return (
    options !== null && typeof options === 'object' && (options as Record<string, unknown>).partitionBy !== undefined
  );
}

/** Validates the partition options (synchronously) and splits them from the format's own. */
export function splitPartitionOptions<O extends object>(
  options: O | undefined,
  extension: string,
): { settings: PartitionSettings; rest: Omit<O, (typeof PARTITION_OPTION_KEYS)[number]> } {
  const { partitionBy, maxOpenFiles, maxBufferedBytes, fileName, existing, ...rest } = (options ?? {}) as O &
    PartitionOptions;
  if (
    !Array.isArray(partitionBy) ||
    partitionBy.length === 0 ||
    partitionBy.some((c) => typeof c !== 'string' || c.length === 0) ||
    new Set(partitionBy).size !== partitionBy.length
  ) {
    throw new ValidationError(
      `Expected \`options.partitionBy\` to be a non-empty array of distinct column names, got ${describeValue(partitionBy)}`,
    );
  }
  const mode = expectOneOf(existing, 'options.existing', ['error', 'overwrite', 'append'] as const, 'error');
  const pattern = fileName ?? (mode === 'append' ? `part-{uuid}-{i}.${extension}` : `part-{i}.${extension}`);
  if (
    typeof pattern !== 'string' ||
    !pattern.includes('{i}') ||
    /[/\\]/.test(pattern) ||
    pattern.startsWith('.') ||
    pattern.startsWith('_')
  ) {
    throw new ValidationError(
      `Expected \`options.fileName\` to be a file name with \`{i}\` (no directories, not hidden), got ${describeValue(fileName)}`,
    );
  }
  if (mode === 'append' && fileName !== undefined && !fileName.includes('{uuid}')) {
    throw new ValidationError(
      "`options.fileName` must contain `{uuid}` with existing: 'append' (else a second run would overwrite the first run's files)",
    );
  }
  return {
    settings: {
      partitionBy: [...partitionBy],
      maxOpenFiles: expectInteger(maxOpenFiles, 'options.maxOpenFiles', 64),
      maxBufferedBytes:
        maxBufferedBytes === undefined ? 256 * 1024 * 1024 : parseBytes(maxBufferedBytes, 'options.maxBufferedBytes'),
      fileName: pattern,
      existing: mode,
    },
    rest: rest as Omit<O, (typeof PARTITION_OPTION_KEYS)[number]>,
  };
}
