/**
 * The writer behind `toArrow`: opens a target (sinks/arrow/targets.ts) on the first batch with
 * its schema, conforms each later batch to the file's schema, and when a batch is losslessly
 * wider rewrites what is written under the widened schema (paths only). Errors name the stage
 * and the file the user asked for, not an intermediate file.
 */
import { unlink } from 'node:fs/promises';
import type { Writable } from 'node:stream';
import { type RecordBatch, Schema, Struct, makeData, util } from 'apache-arrow';
import { makeRecordBatchFast } from '../../lib/formats/arrow/record-batch.ts';
import type { Batch } from '../../lib/core/batch.ts';
import {
  FormatError,
  IoError,
  SchemaMismatchError,
  SpillwayError,
  UnsupportedError,
  ValidationError,
  type ErrorContext,
} from '../../lib/core/errors.ts';
import { logger, type StageStats } from '../../lib/core/stage.ts';
import { openArrowFile } from '../../lib/formats/arrow/ipc-reader.ts';
import { castRecordBatch, schemasEqual, unifySchemas } from '../../lib/formats/arrow/convert.ts';
import { forgetTempFile } from '../../lib/io/temp-files.ts';
import type { ArrowSinkSettings, ToArrowResult } from './options.ts';
import { DeclaredSchema } from './declared.ts';
import { fileTarget, streamTarget, type FileRegistry, type FileTarget, type Target } from './targets.ts';
import type { CommitPoint } from '../../lib/io/commit-point.ts';

const log = logger('toArrow');

/** One `toArrow` run: the open target, the files made, and the rewrites so far. */
export class ArrowSinkWriter {
  static readonly stage = 'toArrow';
  #opened: Target | undefined;
  /** The schema of a batch of no rows, for a file that gets no other (see write). */
  #emptySchema: Schema | undefined;
  #opening: Promise<Target> | undefined;
  #rewrites = 0;
  readonly #files: FileRegistry = { aborted: false, parts: new Set(), live: new Set() };
  readonly #declared: DeclaredSchema | undefined;

  /** `settings` from resolveArrowOptions. */
  constructor(readonly settings: ArrowSinkSettings) {
    this.#declared = settings.declared === undefined ? undefined : new DeclaredSchema(settings.declared);
  }

  #context(batch?: number): ErrorContext {
    return { stage: ArrowSinkWriter.stage, file: this.settings.path, batch };
  }

  async #openTarget(schema: Schema): Promise<Target> {
    const { path, target, compression, format } = this.settings;
    if (path === undefined) return streamTarget(target as Writable, schema, compression, format);
    return fileTarget(path, schema, compression, format, this.#files);
  }

  /** `recordBatch` under the file's schema, widening (and rewriting) the file when it must and may. */
  async #conform(recordBatch: RecordBatch, index: number, stats: StageStats): Promise<RecordBatch> {
    const current = this.#opened!;
    const { path } = this.settings;
    if (schemasEqual(current.schema, recordBatch.schema)) return withSchema(recordBatch, current.schema);
    let unified: Schema;
    try {
      unified = unifySchemas(current.schema, recordBatch.schema);
    } catch (error) {
      throw this.#mismatch(error, index);
    }
    if (schemasEqual(unified, current.schema))
      return withSchema(castRecordBatch(recordBatch, current.schema), current.schema);
    if (path === undefined) {
      throw this.#mismatch(
        new UnsupportedError(
          `batch needs a wider schema than the schema of the stream already written: ${describe(current.schema)}, widened to ${describe(unified)}; declare options.schema or write to a path`,
          {},
        ),
        index,
      );
    }
    // lossless but wider: rewrite what is written under the wider schema, then go on
    this.#opened = await this.#rewrite(current as FileTarget, unified);
    this.#rewrites++;
    stats.details.rewrites = this.#rewrites;
    log('batch %d widened the schema of %s: rewrote %d batches', index, path, this.#opened.numBatches);
    return withSchema(castRecordBatch(recordBatch, unified), unified);
  }

  #mismatch(error: unknown, index: number): SchemaMismatchError {
    const why = error instanceof SpillwayError ? error.detail : error instanceof Error ? error.message : String(error);
    return new SchemaMismatchError(
      `Batch ${index} cannot be written to the Arrow ${this.settings.format}: ${why}`,
      this.#context(index),
      { cause: error },
    );
  }

  /** Commits `old` as an intermediate file and copies it, cast to `schema`, into a new target. */
  async #rewrite(old: FileTarget, schema: Schema): Promise<FileTarget> {
    const { path, compression, format } = this.settings;
    const from = await old.commitPart();
    const next = await fileTarget(path!, schema, compression, format, this.#files);
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
    this.#files.parts.delete(from);
    await unlink(from).catch(() => undefined);
    await forgetTempFile(from);
    return next;
  }

  #wrap(error: unknown, batch?: number): Error {
    if (error instanceof SpillwayError) {
      if (error.context.stage !== undefined || error instanceof ValidationError) return error;
      // the writer names its intermediate file: name the stage and the file the user asked for
      const where: ErrorContext = { ...error.context, ...this.#context(error.context.batch ?? batch) };
      if (error instanceof SchemaMismatchError) return new SchemaMismatchError(error.detail, where, { cause: error });
      if (error instanceof UnsupportedError) return new UnsupportedError(error.detail, where, { cause: error });
      if (error instanceof FormatError) return new FormatError(error.detail, where, { cause: error });
      return new IoError(error.detail, where, { cause: error });
    }
    return new IoError(
      `Writing Arrow failed: ${error instanceof Error ? error.message : String(error)}`,
      this.#context(batch),
      { cause: error },
    );
  }

  /** Writes one batch, opening the target with its schema on the first; `signal` ends a wait on a caller's stream. */
  async write(batch: Batch, stats: StageStats, signal?: AbortSignal): Promise<void> {
    const index = batch.position.index;
    if (batch.numRows === 0) {
      // a source of no rows still hands on its schema (a Parquet file of none): the finish writes it
      if (batch.hasArrow) this.#emptySchema ??= batch.arrow.schema;
      return;
    }
    let recordBatch: RecordBatch;
    try {
      // an Arrow batch is used as it is; rows are converted (schema inferred, or declared) once
      recordBatch = this.#declared?.conform(batch) ?? batch.arrow;
    } catch (error) {
      throw this.#mismatch(error, index);
    }
    let opened: Target;
    try {
      if (this.#opened === undefined) {
        this.#opening ??= this.#openTarget(this.settings.declared ?? recordBatch.schema);
        this.#opened = await this.#opening;
      }
      // conform first: a widening replaces the target
      const conformed = await this.#conform(recordBatch, index, stats);
      opened = this.#opened;
      await opened.write(conformed, signal);
    } catch (error) {
      throw this.#wrap(error, index);
    }
    stats.details.bytes = opened.bytesWritten;
  }

  /** Commits the target (an empty file when no batch came). */
  async finish(point?: CommitPoint): Promise<ToArrowResult> {
    let opened: Target;
    try {
      if (this.#opened === undefined) {
        // no rows: still a valid file, with the declared schema, an empty batch's, or none
        this.#opening ??= this.#openTarget(this.settings.declared ?? this.#emptySchema ?? new Schema([]));
        this.#opened = await this.#opening;
      }
      opened = this.#opened;
      await opened.commit(point);
    } catch (error) {
      throw this.#wrap(error);
    }
    const { path, compression, format } = this.settings;
    return {
      path,
      rows: opened.numRows,
      batches: opened.numBatches,
      bytes: opened.bytesWritten,
      compression,
      format,
      rewrites: this.#rewrites,
    };
  }

  /** Aborts the stream, or removes every file made (a rewrite may be under way). */
  async abort(error: Error | null): Promise<void> {
    const files = this.#files;
    files.aborted = true;
    if (this.settings.path === undefined) {
      const current = this.#opened ?? (await this.#opening?.catch(() => undefined));
      await current?.abort(error);
      return;
    }
    // every writer opened, then every finished intermediate file
    await Promise.all([...files.live].map((writer) => writer.abort()));
    await Promise.all([...files.parts].map((part) => unlink(part).catch(() => undefined)));
    files.parts.clear();
  }
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
  return makeRecordBatchFast(schema, data);
}

function describe(schema: Schema): string {
  const text = schema.fields.map((f) => `${f.name}: ${String(f.type)}`).join(', ');
  return `{${text.length > 120 ? `${text.slice(0, 117)}...` : text}}`;
}
