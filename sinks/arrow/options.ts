/**
 * The options of `toArrow`, checked at once: the strict option list, the target, and the
 * compression, format and declared schema with their defaults resolved.
 */
import type { Schema } from 'apache-arrow';
import { isArrowSchema } from '../../lib/core/arrow-brand.ts';
import type { Writable } from 'node:stream';
import type { PartitionOptions } from '../../lib/dataset/partitioned-writer.ts';
import { ValidationError, describeValue } from '../../lib/core/errors.ts';
import { expectOneOf, expectOptions, optionKeys } from '../../lib/core/validate.ts';
import type { ArrowFormat } from '../../lib/formats/arrow/ipc-reader.ts';
import type { Compression } from '../../lib/formats/arrow/codecs.ts';

/** Options of `toArrow`. */
export interface ToArrowOptions extends PartitionOptions {
  /**
   * Body compression: `'lz4'` (LZ4 frame, the default), `'zstd'`, or `null` / `'none'`. LZ4 is
   * the default because it costs little CPU and typically halves the file; choose `null` for
   * readers that have no codecs (e.g. apache-arrow JS without registered codecs), `'zstd'` for the
   * smallest files.
   */
  compression?: Compression | 'none';
  /**
   * `'file'` (footer, random access; the default for paths) or `'stream'` (sequential; the
   * default for paths ending in `.arrows` and for Writables).
   */
  format?: ArrowFormat;
  /**
   * The schema to write (an apache-arrow Schema). Every batch, rows or Arrow, is built to it by
   * column name: a value is kept when the declared type holds it exactly (1 into Int16, text into
   * LargeUtf8 or a Dictionary, whose dictionary grows across batches as deltas); a value it cannot
   * hold, or a column the schema lacks, fails with SchemaMismatchError naming the column; a column
   * the batch lacks is written as nulls. Default: inferred from the first batch and widened as
   * batches come (paths only; a Writable keeps the first schema).
   */
  schema?: Schema;
}

/** Output of `toArrow`. */
export interface ToArrowResult {
  /** The file written, when the target was a path. */
  path: string | undefined;
  rows: number;
  /** Record batches written. */
  batches: number;
  /** Bytes written. */
  bytes: number;
  compression: Compression;
  format: ArrowFormat;
  /** Times the file was rewritten under a widened schema. */
  rewrites: number;
}

/** Every option of ToArrowOptions, for strict validation. */
const KNOWN_TO_ARROW_OPTIONS = optionKeys<ToArrowOptions>({
  compression: true,
  format: true,
  schema: true,
  partitionBy: true,
  maxOpenFiles: true,
  maxBufferedBytes: true,
  fileName: true,
  existing: true,
});
/** The checked options of one `toArrow` run. */
export interface ArrowSinkSettings {
  readonly target: string | Writable;
  /** The file, when the target is a path. */
  readonly path: string | undefined;
  readonly compression: Compression;
  readonly format: ArrowFormat;
  /** `options.schema`, when declared. */
  readonly declared: Schema | undefined;
}

/** Checks `target` and `options` of `toArrow`, or throws a ValidationError. */
export function resolveArrowOptions(target: string | Writable, options: ToArrowOptions | undefined): ArrowSinkSettings {
  const isPath = typeof target === 'string';
  if (
    !(isPath && target.length > 0) &&
    (typeof target !== 'object' || target === null || typeof (target as Writable).write !== 'function')
  ) {
    throw new ValidationError(`Expected \`target\` to be a file path or a Writable, got ${describeValue(target)}`);
  }
  const opts = expectOptions(options, 'options', KNOWN_TO_ARROW_OPTIONS);
  const path = isPath ? target : undefined;
  const compressionOption = expectOneOf(
    opts.compression === null ? 'none' : opts.compression,
    'options.compression',
    ['lz4', 'zstd', 'none'],
    'lz4',
  );
  const compression: Compression = compressionOption === 'none' ? null : compressionOption;
  const format = expectOneOf(
    opts.format,
    'options.format',
    ['file', 'stream'],
    path === undefined || path.endsWith('.arrows') ? 'stream' : 'file',
  );
  if (opts.schema !== undefined && !isArrowSchema(opts.schema)) {
    throw new ValidationError(
      `Expected \`options.schema\` to be an apache-arrow Schema, got ${describeValue(opts.schema)}`,
    );
  }
  return { target, path, compression, format, declared: opts.schema };
}
