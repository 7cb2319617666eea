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
import type { PartitionOptions, PartitionedResult } from '../lib/dataset/partitioned-writer.ts';
import { unlink } from 'node:fs/promises';
import { forgetTempFile } from '../lib/io/temp-files.ts';
import { RecordBatch, Schema, Struct, makeData, util } from 'apache-arrow';
import type { Writable } from 'node:stream';
import { BatchSink } from '../lib/core/sink.ts';
import type { Batch } from '../lib/core/batch.ts';
import {
  FormatError,
  IoError,
  SchemaMismatchError,
  SpillwayError,
  UnsupportedError,
  ValidationError,
  describeContext,
  describeValue,
  type ErrorContext,
} from '../lib/core/errors.ts';
import { expectOneOf, expectOptions, optionKeys } from '../lib/core/validate.ts';
import { openArrowFile, type ArrowFormat } from '../lib/formats/arrow/ipc-reader.ts';
import type { Compression } from '../lib/formats/arrow/codecs.ts';
import { castRecordBatch, schemasEqual, unifySchemas } from '../lib/formats/arrow/convert.ts';
import { logger, type StageStats } from '../lib/core/stage.ts';
import { fileTarget, streamTarget, type FileRegistry, type FileTarget, type Target } from './arrow/targets.ts';

const log = logger('toArrow');

/** Options of {@link toArrow}. */
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
   * The schema to write (an apache-arrow Schema). Every batch is conformed to it: narrower
   * batches are cast, anything else fails with SchemaMismatchError. Default: inferred from the
   * first batch and widened as batches come (paths only; a Writable keeps the first schema).
   */
  schema?: Schema;
}

/** Output of {@link toArrow}. */
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
  if (opts.schema !== undefined && !(opts.schema instanceof Schema)) {
    throw new ValidationError(
      `Expected \`options.schema\` to be an apache-arrow Schema, got ${describeValue(opts.schema)}`,
    );
  }
  const declared = opts.schema;
  const name = 'toArrow';
  let opened: Target | undefined;
  let opening: Promise<Target> | undefined;
  let rewrites = 0;
  const files: FileRegistry = { aborted: false, parts: new Set(), live: new Set() };

  const context = (batch?: number): ErrorContext => ({ stage: name, file: path, batch });

  async function openTarget(schema: Schema): Promise<Target> {
    if (path === undefined) return streamTarget(target as Writable, schema, compression, format);
    return fileTarget(path, schema, compression, format, files);
  }

  async function conform(recordBatch: RecordBatch, index: number, stats: StageStats): Promise<RecordBatch> {
    const current = opened!;
    if (schemasEqual(current.schema, recordBatch.schema)) return withSchema(recordBatch, current.schema);
    let unified: Schema;
    try {
      unified = unifySchemas(current.schema, recordBatch.schema);
    } catch (error) {
      throw mismatch(error, index);
    }
    if (schemasEqual(unified, current.schema))
      return withSchema(castRecordBatch(recordBatch, current.schema), current.schema);
    if (declared !== undefined || path === undefined) {
      const why = declared !== undefined ? 'the declared options.schema' : 'the schema of the stream already written';
      throw mismatch(
        new UnsupportedError(
          `batch needs a wider schema than ${why}: ${describe(recordBatch.schema)} vs ${describe(current.schema)}; declare options.schema or write to a path`,
          {},
        ),
        index,
      );
    }
    // lossless but wider: rewrite what is written under the wider schema, then go on
    opened = await rewrite(current as FileTarget, unified);
    rewrites++;
    stats.details.rewrites = rewrites;
    log('batch %d widened the schema of %s: rewrote %d batches', index, path, opened.numBatches);
    return withSchema(castRecordBatch(recordBatch, unified), unified);
  }

  function mismatch(error: unknown, index: number): SchemaMismatchError {
    const why =
      error instanceof SpillwayError ? bareMessage(error) : error instanceof Error ? error.message : String(error);
    return new SchemaMismatchError(`Batch ${index} cannot be written to the Arrow ${format}: ${why}`, context(index), {
      cause: error,
    });
  }

  async function rewrite(old: FileTarget, schema: Schema): Promise<FileTarget> {
    const from = await old.commitPart();
    const next = await fileTarget(path!, schema, compression, format, files);
    try {
      const handle = await openArrowFile(from);
      try {
        for await (const written of handle.batches())
          await next.write(withSchema(castRecordBatch(written, schema), schema));
      } finally {
        await handle.close();
      }
    } catch (error) {
      await next.abort(null);
      throw error;
    }
    files.parts.delete(from);
    await unlink(from).catch(() => undefined);
    await forgetTempFile(from);
    return next;
  }

  function wrap(error: unknown, batch?: number): Error {
    if (error instanceof SpillwayError) {
      if (error.context.stage !== undefined || error instanceof ValidationError) return error;
      // the writer names its intermediate file: name the stage and the file the user asked for
      const where: ErrorContext = { ...error.context, ...context(error.context.batch ?? batch) };
      if (error instanceof SchemaMismatchError)
        return new SchemaMismatchError(bareMessage(error), where, { cause: error });
      if (error instanceof UnsupportedError) return new UnsupportedError(bareMessage(error), where, { cause: error });
      if (error instanceof FormatError) return new FormatError(bareMessage(error), where, { cause: error });
      return new IoError(bareMessage(error), where, { cause: error });
    }
    return new IoError(
      `Writing Arrow failed: ${error instanceof Error ? error.message : String(error)}`,
      context(batch),
      { cause: error },
    );
  }

  return new BatchSink<ToArrowResult>({
    name,
    async write(batch: Batch, _context, stats) {
      const index = batch.position.index;
      if (batch.numRows === 0) return;
      let recordBatch: RecordBatch;
      try {
        // an Arrow batch is used as it is; rows are converted (schema inferred) once
        recordBatch = batch.arrow;
      } catch (error) {
        throw mismatch(error, index);
      }
      try {
        if (opened === undefined) {
          opening ??= openTarget(declared ?? recordBatch.schema);
          opened = await opening;
        }
        // conform first: a widening replaces `opened`
        const conformed = await conform(recordBatch, index, stats);
        await opened.write(conformed);
      } catch (error) {
        throw wrap(error, index);
      }
      stats.details.bytes = opened.bytesWritten;
    },
    async finish() {
      try {
        if (opened === undefined) {
          // no rows: still a valid file, with the declared schema or none
          opening ??= openTarget(declared ?? new Schema([]));
          opened = await opening;
        }
        await opened.commit();
      } catch (error) {
        throw wrap(error);
      }
      return {
        path,
        rows: opened.numRows,
        batches: opened.numBatches,
        bytes: opened.bytesWritten,
        compression,
        format,
        rewrites,
      };
    },
    async abort(error) {
      files.aborted = true;
      if (path === undefined) {
        const current = opened ?? (await opening?.catch(() => undefined));
        await current?.abort(error);
        return;
      }
      // every writer opened (a rewrite may be under way), then every finished intermediate file
      await Promise.all([...files.live].map((writer) => writer.abort()));
      await Promise.all([...files.parts].map((part) => unlink(part).catch(() => undefined)));
      files.parts.clear();
    },
  });
}

/**
 * `batch` under exactly `schema` (same columns and types, as schemasEqual judged): apache-arrow's
 * writer also compares schema and field metadata, which may differ in form (e.g. read back from
 * a file), and would refuse the batch.
 */
function withSchema(batch: RecordBatch, schema: Schema): RecordBatch {
  const same: boolean = batch.schema === schema || util.compareSchemas(batch.schema, schema);
  if (same) return batch;
  const data = makeData({
    type: new Struct(schema.fields),
    length: batch.numRows,
    nullCount: 0,
    children: batch.data.children,
  });
  return new RecordBatch(schema, data);
}

/** An error's message without the context suffix SpillwayError adds. */
function bareMessage(error: SpillwayError): string {
  const suffix = ` (${describeContext(error.context)})`;
  return error.message.endsWith(suffix) ? error.message.slice(0, -suffix.length) : error.message;
}

function describe(schema: Schema): string {
  const text = schema.fields.map((f) => `${f.name}: ${String(f.type)}`).join(', ');
  return `{${text.length > 120 ? `${text.slice(0, 117)}...` : text}}`;
}
