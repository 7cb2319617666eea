/**
 * spillway's own Parquet file writer. Rows (`write`) or Arrow record batches (`writeArrow`) are
 * appended to one growable buffer per column (lib/parquet/encode/column-buffer.ts); when
 * `rowGroupSize` rows or `rowGroupBytes` buffered bytes (real bytes: values, offsets, levels) are
 * reached, the row group is encoded into DataPage V1 pages of about 1 MB (PLAIN, or dictionary
 * for string chunks with few distinct values) and compressed, on an encoder thread of the
 * writer's own (see encode/row-group-encoder.ts) or on the main thread, and written through an
 * async FileHandle while the next row group fills. At most one row group is in flight besides the one filling, so
 * memory stays bounded by about two row groups. The file is written under a temporary name,
 * fsynced and renamed on {@link ParquetFileWriter.commit}; {@link ParquetFileWriter.abort} removes
 * it.
 *
 * JavaScript -> Parquet types (declared, or inferred from the first rows):
 *
 * | type        | Parquet                          | accepts                          |
 * |-------------|----------------------------------|----------------------------------|
 * | `boolean`   | BOOLEAN                          | boolean                          |
 * | `int32`     | INT32                            | integer number in int32 range    |
 * | `int64`     | INT64                            | bigint, or a safe integer number |
 * | `double`    | DOUBLE (inferred for numbers: a JS number is a double, so no widening problem later) | number |
 * | `string`    | BYTE_ARRAY STRING (inferred for all-null columns) | string          |
 * | `binary`    | BYTE_ARRAY                       | Uint8Array                       |
 * | `timestamp` | INT64 TIMESTAMP(MILLIS, UTC)     | Date                             |
 * | `date`      | INT32 DATE                       | Date (its UTC day)               |
 * | `json`      | BYTE_ARRAY JSON                  | any JSON-serialisable value (inferred for other objects) |
 *
 * Arrow -> Parquet (`writeArrow`): Int8/16/32 and Uint8/16/32 -> INT32 with an INT annotation
 * (plain Int32 unannotated), Int64 -> INT64, Uint64 -> INT64 UINT_64, Float32 -> FLOAT, Float64 ->
 * DOUBLE, Bool -> BOOLEAN, Utf8/LargeUtf8 and Dictionary<Utf8> -> STRING, Binary -> BYTE_ARRAY,
 * Date32/Date64 -> DATE, Timestamp s/ms -> TIMESTAMP MILLIS (seconds x1000), us -> MICROS, ns ->
 * NANOS, Null -> an all-null STRING column. Other types throw {@link UnsupportedError}.
 *
 * Schema drift: a batch whose column has another type than the file's is converted when that is
 * exact (Int32 into DOUBLE, Null into any nullable column, an Int64 that fits into INT32...). While
 * the first row group is still buffered and the schema was not declared, the buffered column is
 * widened instead (Int32 -> Float64 or Int64, Null -> anything). Otherwise a
 * {@link SchemaMismatchError} (inferred schema) or {@link FormatError} (declared schema) names the
 * column and both types: nothing is coerced silently, no column is dropped.
 */
import { open, rename, truncate, unlink } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Data, DataType, RecordBatch } from 'apache-arrow';
import { ROWS_METADATA_KEY } from '../arrow/convert.ts';
import { FormatError, IoError, SchemaMismatchError, UnsupportedError, ValidationError, describeValue } from '../../core/errors.ts';
import { expectInteger, expectOneOf, expectOptions, optionKeys, parseBytes } from '../../core/validate.ts';
import { logger } from '../../core/stage.ts';
import { packageVersion } from '../../core/version.ts';
import type { ByteSize } from '../../core/validate.ts';
import { readFileSync } from 'node:fs';
import { forgetTempFile, keepForResume, newTempPath, trackTempFile } from '../../io/temp-files.ts';
import { ColumnBuffer } from './encode/column-buffer.ts';
import { appendArrow, arrowBytes, kindOfField } from './encode/arrow.ts';
import { CODEC_IDS, CODEC_NAMES } from './encode/compress.ts';
import type { ParquetCompression } from './encode/compress.ts';
import { widenKind } from './encode/drift.ts';
import { fileMetadata, pageHeader } from './encode/metadata.ts';
import type { ChunkMeta, RowGroupMeta } from './encode/metadata.ts';
import { RowGroupEncoder, type EncoderThreadOption } from './encode/row-group-encoder.ts';
import type { EncodedChunk } from './encode/encoded-chunk.ts';
import { kindOfValue, pushValue } from './encode/rows.ts';
import { widthOf, type ColumnKind } from './encode/schema.ts';

export type { ParquetCompression };
export type { ColumnKind as ParquetColumnKind, RowGroupMeta as ParquetRowGroupMeta };

const log = logger('parquet-writer');

/** A column type the writer can declare. See the module's table. */
export type ParquetWriteType = 'boolean' | 'int32' | 'int64' | 'double' | 'string' | 'binary' | 'timestamp' | 'date' | 'json';

/** A declared column: a type, or a type with nullability (default nullable). */
export type ParquetFieldSpec = ParquetWriteType | { type: ParquetWriteType; nullable?: boolean };

/** Options of {@link ParquetFileWriter.open}. */
export interface ParquetWriteOptions {
  /** Column name -> type, in column order. When omitted, inferred from the first rows or Arrow batch. */
  schema?: Record<string, ParquetFieldSpec>;
  /** Page compression (default `'snappy'`). */
  compression?: ParquetCompression;
  /** Most rows per row group (default 100000). */
  rowGroupSize?: number;
  /**
   * Most buffered bytes of one row group (default `'32MB'`): values, byte-array offsets and
   * definition levels as held before encoding. A row group ends at `rowGroupSize` rows or at this
   * size, whichever comes first. Peak memory is about twice this (one group filling, one being
   * compressed and written).
   */
  rowGroupBytes?: ByteSize;
  /**
   * Encode and compress row groups on a thread of the writer's own, beside the pipeline's work
   * (default `'auto'`: when the machine has two cores or more and a row group has 16,384 rows or
   * more). `false` keeps all the work on the main thread (compression still uses the libuv pool).
   */
  encoderThread?: EncoderThreadOption;
}

/** Default of {@link ParquetWriteOptions.rowGroupSize}. */
export const DEFAULT_ROW_GROUP_SIZE = 100_000;
/** Default of {@link ParquetWriteOptions.rowGroupBytes}, in bytes. */
export const DEFAULT_ROW_GROUP_BYTES = 32e6;

const TYPES: readonly ParquetWriteType[] = ['boolean', 'int32', 'int64', 'double', 'string', 'binary', 'timestamp', 'date', 'json'];
const MAGIC = new Uint8Array([0x50, 0x41, 0x52, 0x31]);

/** `spillway version X`, read once from the package's package.json. */
const CREATED_BY = `spillway version ${packageVersion()}`;


interface Field {
  name: string;
  type: ColumnKind;
  nullable: boolean;
}

function parseSchema(schema: Record<string, ParquetFieldSpec>): Field[] {
  const fields: Field[] = [];
  for (const [name, spec] of Object.entries(schema)) {
    const path = `options.schema.${name}`;
    const type = typeof spec === 'string' ? spec : spec?.type;
    const nullable = typeof spec === 'object' && spec !== null ? spec.nullable ?? true : true;
    expectOneOf(type, typeof spec === 'string' ? path : `${path}.type`, TYPES, 'string');
    if (type === undefined) throw new ValidationError(`Expected \`${path}\` to be a column type, got ${describeValue(spec)}`);
    if (typeof nullable !== 'boolean') throw new ValidationError(`Expected \`${path}.nullable\` to be a boolean, got ${describeValue(nullable)}`);
    fields.push({ name, type, nullable });
  }
  if (fields.length === 0) throw new ValidationError('Expected `options.schema` to declare at least one column, got `{}` (object)');
  return fields;
}

/** Options of {@link ParquetFileWriter} after validation. */
interface CheckedWriteOptions {
  fields: Field[] | undefined;
  compression: ParquetCompression;
  rowGroupSize: number;
  rowGroupBytes: number;
  encoderThread: EncoderThreadOption;
}


/** Every option of ParquetWriteOptions, for strict validation. */
const KNOWN_PARQUET_WRITE_OPTIONS = optionKeys<ParquetWriteOptions>({ schema: true, compression: true, rowGroupSize: true, rowGroupBytes: true, encoderThread: true });
/**
 * Validates writer options synchronously (sinks call it in their factory, before any file is
 * created).
 * @throws ValidationError naming the option
 */
export function checkWriteOptions(options: ParquetWriteOptions | undefined): CheckedWriteOptions {
  const opts = expectOptions(options, 'options', KNOWN_PARQUET_WRITE_OPTIONS);
  const compression = expectOneOf(opts.compression, 'options.compression', CODEC_NAMES, 'snappy');
  const rowGroupSize = expectInteger(opts.rowGroupSize, 'options.rowGroupSize', DEFAULT_ROW_GROUP_SIZE);
  const rowGroupBytes = opts.rowGroupBytes === undefined ? DEFAULT_ROW_GROUP_BYTES : parseBytes(opts.rowGroupBytes, 'options.rowGroupBytes');
  if (rowGroupBytes < 1) throw new ValidationError(`Expected \`options.rowGroupBytes\` to be at least 1 byte, got ${describeValue(opts.rowGroupBytes)}`);
  if (opts.schema !== undefined && (typeof opts.schema !== 'object' || opts.schema === null || Array.isArray(opts.schema))) {
    throw new ValidationError(`Expected \`options.schema\` to be an object of column types, got ${describeValue(opts.schema)}`);
  }
  const fields = opts.schema === undefined ? undefined : parseSchema(opts.schema);
  const encoderThread = opts.encoderThread ?? 'auto';
  if (encoderThread !== true && encoderThread !== false && encoderThread !== 'auto') {
    throw new ValidationError(`Expected \`options.encoderThread\` to be true, false or 'auto', got ${describeValue(opts.encoderThread)}`);
  }
  return { fields, compression, rowGroupSize, rowGroupBytes, encoderThread };
}

/**
 * What a checkpoint keeps of a Parquet file being written: the temporary file, its length after
 * the last complete row group, the schema, and the metadata of the row groups written (so the
 * footer of the continued file is the one an uninterrupted run writes). Plain JSON.
 */
export interface ParquetWriterState {
  tempPath: string;
  length: number;
  rows: number;
  rowGroups: number;
  fields: { name: string; type: ColumnKind; nullable: boolean }[];
  inferred: boolean;
  /** Metadata of the row groups in the file, in order. */
  groups: RowGroupMeta[];
}

/** A row group encoded and on its way to the file. */
interface Flight {
  done: Promise<void>;
}

/** Writes rows or Arrow record batches to a Parquet file, one row group at a time. */
export class ParquetFileWriter {
  /** Final path of the file. */
  readonly path: string;
  /** Temporary path written until commit. */
  readonly tempPath: string;
  /** Rows written so far (in row groups that are in the file). */
  rowsWritten = 0;
  /** Row groups written so far. */
  rowGroupsWritten = 0;
  #handle: FileHandle;
  #fields: Field[] | undefined;
  /** True when the schema was inferred: drift may widen the first row group's columns. */
  #inferred = false;
  #known: Set<string> | undefined;
  #codec: ParquetCompression;
  #rowGroupSize: number;
  #rowGroupBytes: number;
  #columns: ColumnBuffer[] = [];
  #pendingRows = 0;
  /** Rows appended in earlier row groups (flushed or in flight): the index of the next row. */
  #rowsSeen = 0;
  /** Row groups flushed (encoded) so far: the schema is frozen after the first. */
  #groupsFlushed = 0;
  #fileLength = 0;
  #groups: RowGroupMeta[] = [];
  #flight: Flight | undefined;
  #flightError: unknown;
  #state: 'open' | 'committed' | 'aborted' | 'failed' = 'open';
  #lastCheckpoint: ParquetWriterState | undefined;
  /** Arrow schema last seen -> index of each file column in it (-1: absent). */
  #arrowMap: { schema: unknown; index: number[]; kinds: (ColumnKind | undefined)[] } | undefined;
  readonly #encoder: RowGroupEncoder;

  private constructor(path: string, tempPath: string, handle: FileHandle, fields: Field[] | undefined, options: CheckedWriteOptions) {
    const { compression: codec, rowGroupSize, rowGroupBytes } = options;
    this.#encoder = new RowGroupEncoder(codec, options.encoderThread);
    this.path = path;
    this.tempPath = tempPath;
    this.#handle = handle;
    this.#codec = codec;
    this.#rowGroupSize = rowGroupSize;
    this.#rowGroupBytes = rowGroupBytes;
    if (fields) this.#setFields(fields, false);
  }

  /** Bytes of the file so far (the whole file once committed). */
  get bytesWritten(): number {
    return this.#fileLength;
  }

  /**
   * Validates options synchronously (throws ValidationError), then creates the temporary file.
   * @throws IoError when the temporary file cannot be created
   */
  static open(path: string, options?: ParquetWriteOptions): Promise<ParquetFileWriter> {
    const checked = checkWriteOptions(options);
    return (async () => {
      // named with this process's pid; the directory's stale temporary files go first (lib/temp-files.ts)
      const tempPath = await newTempPath(path);
      let handle: FileHandle | undefined;
      try {
        handle = await open(tempPath, 'wx');
        await handle.write(MAGIC, 0, 4);
      } catch (error) {
        await handle?.close().catch(() => undefined);
        if (handle) await unlink(tempPath).catch(() => undefined);
        await forgetTempFile(tempPath);
        throw new IoError(`Cannot create Parquet file: ${(error as Error).message}`, { file: path }, { cause: error });
      }
      const w = new ParquetFileWriter(path, tempPath, handle, checked.fields, checked);
      w.#fileLength = 4;
      return w;
    })();
  }

  /**
   * Adds rows; a row group is encoded each time `rowGroupSize` rows or `rowGroupBytes` are
   * buffered. Each value is checked against its column's type and copied into the column buffers
   * (the row objects are not kept).
   * @throws FormatError naming the column and row for a value that does not fit its column
   */
  async write(rows: readonly Record<string, unknown>[], columns?: readonly string[]): Promise<void> {
    this.#expectOpen();
    if (rows.length === 0) return;
    if (!this.#fields) this.#inferFromRows(rows, columns);
    for (const row of rows) {
      this.#appendRow(row);
      if (this.#full()) await this.#flushGroup();
    }
  }

  /**
   * Adds an Arrow record batch, column by column in bulk (no row objects). Columns are matched by
   * name; a column the file lacks is refused, a column the batch lacks is written as nulls.
   * @param batchIndex the batch's index in its source, for error messages
   * @throws UnsupportedError for an Arrow type the writer cannot write
   * @throws SchemaMismatchError (inferred schema) or FormatError (declared) for a column whose type cannot be converted exactly
   */
  async writeArrow(batch: RecordBatch, batchIndex?: number): Promise<void> {
    this.#expectOpen();
    if (batch.schema.metadata.get(ROWS_METADATA_KEY) === 'array') {
      throw new FormatError('toParquet writes object rows (keyed by column name), got array rows; read CSV with a header or map rows to objects', { file: this.path, batch: batchIndex });
    }
    if (!this.#fields) this.#inferFromArrow(batch, batchIndex);
    const map = this.#mapArrow(batch, batchIndex);
    const children = batch.data.children as Data<DataType>[];
    const total = batch.numRows;
    let offset = 0;
    while (offset < total) {
      const take = this.#rowsThatFit(children, map.index, offset, total - offset);
      this.#appendArrow(children, map, offset, take, batchIndex);
      offset += take;
      if (this.#full()) await this.#flushGroup();
    }
  }

  /**
   * Fsyncs the row groups written so far and describes them (for a checkpoint); undefined while
   * no row group is in the file. Rows buffered or in flight are not part of it.
   */
  async checkpoint(): Promise<ParquetWriterState | undefined> {
    this.#expectOpen();
    if (this.rowGroupsWritten === 0) return undefined;
    // no new row group since the last checkpoint: nothing more to make durable
    if (this.#lastCheckpoint?.rowGroups === this.rowGroupsWritten) return this.#lastCheckpoint;
    // the snapshot is taken now, synchronously: every row group it counts is already in the file
    const state: ParquetWriterState = {
      tempPath: this.tempPath,
      length: this.#fileLength,
      rows: this.rowsWritten,
      rowGroups: this.rowGroupsWritten,
      fields: this.#fields!.map((f) => ({ ...f })),
      inferred: this.#inferred,
      groups: this.#groups.slice(),
    };
    await this.#handle.sync();
    // a checkpoint will name this file: sweeps by other runs must keep it for the resume
    await keepForResume(this.tempPath);
    this.#lastCheckpoint = state;
    return state;
  }

  /**
   * Continues the file of an interrupted run from a {@link ParquetFileWriter.checkpoint} state:
   * the temporary file is cut back to the committed length and appended to.
   * @throws IoError when the temporary file is missing or shorter than the state says
   */
  static async resume(path: string, options: ParquetWriteOptions | undefined, state: ParquetWriterState): Promise<ParquetFileWriter> {
    const checked = checkWriteOptions(options);
    let handle: FileHandle;
    try {
      if (!Array.isArray(state.groups) || state.groups.length !== state.rowGroups) throw new Error('the checkpoint does not hold the row groups written');
      const probe = await open(state.tempPath, 'r');
      const { size } = await probe.stat().finally(() => probe.close());
      if (size < state.length) throw new Error(`it holds ${size} bytes, fewer than the ${state.length} committed`);
      await truncate(state.tempPath, state.length);
      handle = await open(state.tempPath, 'a');
    } catch (error) {
      throw new IoError(`Cannot resume Parquet file from ${state.tempPath}: ${(error as Error).message}`, { file: path }, { cause: error });
    }
    const w = new ParquetFileWriter(path, state.tempPath, handle, undefined, checked);
    trackTempFile(state.tempPath);
    w.#setFields(state.fields.map((f) => ({ ...f })), state.inferred);
    w.#fileLength = state.length;
    w.#groups = state.groups.slice();
    w.#groupsFlushed = state.rowGroups;
    w.rowsWritten = state.rows;
    w.#rowsSeen = state.rows;
    w.rowGroupsWritten = state.rowGroups;
    return w;
  }

  /** Closes the file and leaves the temporary file in place (a checkpoint refers to it). */
  async release(): Promise<void> {
    await this.#stop();
  }

  /** Writes the last row group and the footer, fsyncs, and renames the file into place. */
  async commit(): Promise<void> {
    this.#expectOpen();
    try {
      if (!this.#fields) throw new FormatError('Cannot infer a Parquet schema without rows; declare `schema`', { file: this.path });
      if (this.#pendingRows > 0) await this.#flushGroup();
      await this.#settle();
      await this.#encoder.close();
      this.#resolveNullKinds();
      const meta = fileMetadata(this.#schemaColumns(), this.#groups, CREATED_BY);
      const tail = new Uint8Array(meta.length + 8);
      tail.set(meta);
      new DataView(tail.buffer).setUint32(meta.length, meta.length, true);
      tail.set(MAGIC, meta.length + 4);
      await this.#writeAll(tail);
      this.#fileLength += tail.length;
      await this.#handle.sync();
      await this.#handle.close();
      await rename(this.tempPath, this.path);
      await forgetTempFile(this.tempPath);
      this.#state = 'committed';
    } catch (error) {
      await this.abort().catch(() => undefined);
      if (error instanceof FormatError || error instanceof IoError || error instanceof SchemaMismatchError) throw error;
      throw new IoError(`Cannot write Parquet file: ${(error as Error).message}`, { file: this.path }, { cause: error });
    }
  }

  /** Closes and removes the temporary file. Idempotent; a no-op after commit. */
  async abort(): Promise<void> {
    if (await this.#stop()) {
      await unlink(this.tempPath).catch(() => undefined);
      await forgetTempFile(this.tempPath);
    }
  }

  /** Stops the encoder, lets the row group in flight settle and closes the file; false when already committed or stopped. */
  async #stop(): Promise<boolean> {
    if (this.#state === 'committed' || this.#state === 'aborted') return false;
    this.#state = 'aborted';
    this.#columns = [];
    await this.#encoder.close();
    await this.#flight?.done.catch(() => undefined);
    await this.#handle.close().catch(() => undefined);
    return true;
  }

  #expectOpen(): void {
    if (this.#flightError !== undefined) this.#fail(this.#flightError);
    if (this.#state !== 'open') throw new IoError(`Parquet writer is ${this.#state}`, { file: this.path });
  }

  #fail(error: unknown): never {
    this.#state = 'failed';
    if (error instanceof IoError || error instanceof FormatError) throw error;
    throw new IoError(`Cannot write Parquet row group: ${(error as Error).message}`, { file: this.path, row: this.rowsWritten }, { cause: error });
  }

  #setFields(fields: Field[], inferred: boolean): void {
    this.#fields = fields;
    this.#inferred = inferred;
    this.#known = new Set(fields.map((f) => f.name));
    this.#columns = fields.map((f) => new ColumnBuffer(f.type, f.nullable));
  }

  #schemaColumns(): { name: string; kind: ColumnKind; nullable: boolean }[] {
    return this.#fields!.map((f) => ({ name: f.name, kind: f.type, nullable: f.nullable }));
  }

  /** Columns still of kind `null` when their first row group is flushed become strings. */
  #resolveNullKinds(): void {
    this.#fields!.forEach((f, c) => {
      if (f.type !== 'null') return;
      f.type = 'string';
      this.#columns[c]?.widen('string');
    });
  }

  /** Infers the columns from rows; `columns` (the source's order) comes first when given. */
  #inferFromRows(rows: readonly Record<string, unknown>[], columns?: readonly string[]): void {
    const types = new Map<string, ColumnKind>((columns ?? []).map((name) => [name, 'null']));
    for (const row of rows) {
      for (const [k, v] of Object.entries(row)) {
        const t = types.get(k);
        if (t === undefined || t === 'null') types.set(k, inferType(v));
      }
    }
    if (types.size === 0) throw new FormatError('Cannot infer a Parquet schema without columns; declare `schema`', { file: this.path });
    this.#setFields([...types].map(([name, type]) => ({ name, type, nullable: true })), true);
  }

  #inferFromArrow(batch: RecordBatch, batchIndex: number | undefined): void {
    const fields: Field[] = batch.schema.fields.map((f) => {
      const kind = kindOfField(f);
      if (kind === undefined) {
        throw new UnsupportedError(`Column \`${f.name}\` has Arrow type ${String(f.type)}, which the Parquet writer cannot write; map it to a supported type first`, { file: this.path, batch: batchIndex });
      }
      return { name: f.name, type: kind, nullable: true };
    });
    if (fields.length === 0) throw new FormatError('Cannot infer a Parquet schema without columns; declare `schema`', { file: this.path, batch: batchIndex });
    this.#setFields(fields, true);
  }

  #mapArrow(batch: RecordBatch, batchIndex: number | undefined): { index: number[]; kinds: (ColumnKind | undefined)[] } {
    if (this.#arrowMap?.schema === batch.schema) return this.#arrowMap;
    const fields = this.#fields!;
    const names = batch.schema.fields.map((f) => f.name);
    for (const name of names) {
      if (!this.#known!.has(name)) {
        throw new SchemaMismatchError(`Batch has column \`${name}\`, which the Parquet schema lacks; declare the column types (\`cast\` or \`types\` in fromCsv, \`schema\` in toParquet)`, { file: this.path, batch: batchIndex });
      }
    }
    const index = fields.map((f) => names.indexOf(f.name));
    const kinds = index.map((i, c) => {
      if (i < 0) return undefined;
      const field = batch.schema.fields[i]!;
      const kind = kindOfField(field);
      if (kind === undefined) {
        throw new UnsupportedError(`Column \`${fields[c]!.name}\` has Arrow type ${String(field.type)}, which the Parquet writer cannot write; map it to a supported type first`, { file: this.path, batch: batchIndex });
      }
      return kind;
    });
    this.#arrowMap = { schema: batch.schema, index, kinds };
    return this.#arrowMap;
  }

  /** How many of the next `available` rows go into the current row group (its bounds are per row, as on the rows path). */
  #rowsThatFit(children: Data<DataType>[], index: number[], offset: number, available: number): number {
    let take = Math.min(available, this.#rowGroupSize - this.#pendingRows);
    const room = this.#rowGroupBytes - this.#bufferedBytes();
    const bytes = (k: number): number => {
      let sum = 0;
      this.#columns.forEach((col, c) => {
        const i = index[c]!;
        sum += i < 0 ? k * (widthOf(col.storage) + (col.nullable ? 1 : 0)) : arrowBytes(children[i]!, widthOf(col.storage), col.nullable, offset, k);
      });
      return sum;
    };
    if (bytes(take) < room) return take;
    // the smallest k whose rows reach the byte bound (the row at which the rows path would flush)
    let lo = 1;
    let hi = take;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (bytes(mid) >= room) hi = mid;
      else lo = mid + 1;
    }
    take = lo;
    return take;
  }

  #appendArrow(children: Data<DataType>[], map: { index: number[]; kinds: (ColumnKind | undefined)[] }, offset: number, count: number, batchIndex: number | undefined): void {
    const fields = this.#fields!;
    const before = this.#columns.map((col) => col.n);
    try {
      this.#columns.forEach((col, c) => {
        const i = map.index[c]!;
        const field = fields[c]!;
        if (i < 0) {
          if (!col.nullable) throw new FormatError(`Column \`${field.name}\` is not nullable but the batch lacks it`, { file: this.path, batch: batchIndex });
          for (let k = 0; k < count; k++) col.pushNull();
          return;
        }
        const source = map.kinds[c]!;
        const data = children[i]!;
        let failure = appendArrow(col, data, source, offset, count);
        if (failure === undefined) return;
        const wider = this.#canWiden() ? widenKind(col.kind, source) : undefined;
        if (wider !== undefined && wider !== col.kind && col.widen(wider)) {
          log('column %s widened from %s to %s in the first row group (batch %d)', field.name, field.type, wider, batchIndex);
          field.type = wider;
          failure = appendArrow(col, data, source, offset, count);
          if (failure === undefined) return;
        }
        const what = `Column \`${field.name}\` is ${field.type} in the Parquet file but ${source} in batch ${batchIndex ?? '?'} (${failure})`;
        if (!this.#inferred) throw new FormatError(`${what}; change the declared \`schema\` or convert the column first`, { file: this.path, batch: batchIndex });
        throw new SchemaMismatchError(`${what}; declare the column types (\`cast\` or \`types\` in fromCsv, \`schema\` in toParquet)`, { file: this.path, batch: batchIndex });
      });
    } catch (error) {
      // keep the columns aligned: drop the part of the batch already appended
      this.#columns.forEach((col, c) => col.truncate(before[c]!));
      throw error;
    }
    this.#pendingRows += count;
  }

  /** Buffered columns may be re-typed only before the first row group is encoded, and only for an inferred schema. */
  #canWiden(): boolean {
    return this.#inferred && this.#groupsFlushed === 0;
  }

  /** Converts one row into the column buffers. */
  #appendRow(row: Record<string, unknown>): void {
    const fields = this.#fields!;
    const rowIndex = this.#rowsSeen + this.#pendingRows;
    if (this.#inferred) {
      // an inferred schema must not drop a column that shows up later
      for (const key in row) {
        if (!this.#known!.has(key)) {
          throw new FormatError(`Row has column \`${key}\`, which the Parquet schema inferred from the first rows lacks; declare \`options.schema\``, { file: this.path, row: rowIndex });
        }
      }
    }
    const columns = this.#columns;
    let c = 0;
    try {
      for (; c < fields.length; c++) {
        const f = fields[c]!;
        const col = columns[c]!;
        const value = row[f.name];
        if (value === null || value === undefined) {
          if (!f.nullable) throw new FormatError(`Column \`${f.name}\` is not nullable but got ${describeValue(value)}`, { file: this.path, row: rowIndex });
          col.pushNull();
        } else if (!pushValue(col, value)) {
          const wider = this.#canWiden() ? widenKind(col.kind, f.type === 'null' ? inferType(value) : (kindOfValue(value) ?? f.type)) : undefined;
          if (wider === undefined || wider === col.kind || !col.widen(wider) || !pushValue(col, value)) {
            throw new FormatError(`Column \`${f.name}\` has type ${f.type === 'null' ? 'null' : f.type} but got ${describeValue(value)}`, { file: this.path, row: rowIndex });
          }
          f.type = wider;
        }
      }
    } catch (error) {
      // keep the columns aligned: drop the part of the refused row already appended
      const n = this.#pendingRows;
      for (let k = 0; k < c; k++) columns[k]!.truncate(n);
      throw error;
    }
    this.#pendingRows++;
  }

  #bufferedBytes(): number {
    let sum = 0;
    for (const col of this.#columns) sum += col.bytes;
    return sum;
  }

  #full(): boolean {
    return this.#pendingRows >= this.#rowGroupSize || this.#bufferedBytes() >= this.#rowGroupBytes;
  }

  /** Encodes the buffered row group and sends it on its way to the file. */
  async #flushGroup(): Promise<void> {
    const rows = this.#pendingRows;
    if (rows === 0) return;
    this.#resolveNullKinds();
    let encoded: Promise<EncodedChunk[]>;
    try {
      // takes the columns' rows now (encoded, or copied for the encoder thread): they are reset next
      encoded = this.#encoder.encode(this.#columns, rows);
    } catch (error) {
      this.#fail(error);
    }
    encoded.catch(() => undefined);
    for (const col of this.#columns) col.reset();
    this.#pendingRows = 0;
    this.#rowsSeen += rows;
    this.#groupsFlushed++;
    // the previous group must be written first
    const previous = this.#flight;
    if (previous !== undefined) await previous.done.catch(() => undefined);
    if (this.#flightError !== undefined) this.#fail(this.#flightError);
    const flight: Flight = { done: this.#writeGroup(encoded, rows) };
    flight.done.catch((error: unknown) => {
      this.#flightError ??= error ?? new Error('row group write failed');
    });
    this.#flight = flight;
  }

  async #writeGroup(encoded: Promise<EncodedChunk[]>, rows: number): Promise<void> {
    const chunks = await encoded;
    const parts: Uint8Array[] = [];
    const groupStart = this.#fileLength;
    let at = groupStart;
    let uncompressedTotal = 0;
    const metas: ChunkMeta[] = chunks.map((chunk) => {
      const chunkStart = at;
      let dataPageOffset = -1;
      let uncompressed = 0;
      for (const page of chunk.pages) {
        const body = page.body;
        const header = pageHeader(page.type, page.uncompressedBytes, body.length, page.numValues, page.encoding, page.crc);
        if (page.type === 0 && dataPageOffset < 0) dataPageOffset = at;
        parts.push(header, body);
        at += header.length + body.length;
        uncompressed += header.length + page.uncompressedBytes;
      }
      uncompressedTotal += uncompressed;
      const s = chunk.statistics;
      return {
        encodings: chunk.encodings,
        codec: CODEC_IDS[this.#codec],
        numValues: chunk.numValues,
        uncompressedBytes: uncompressed,
        compressedBytes: at - chunkStart,
        dataPageOffset,
        ...(chunk.hasDictionary ? { dictionaryPageOffset: chunkStart } : {}),
        nullCount: s.nullCount,
        ...(s.min !== undefined && s.max !== undefined ? { min: Buffer.from(s.min).toString('base64'), max: Buffer.from(s.max).toString('base64') } : {}),
      };
    });
    await this.#writeParts(parts, at - groupStart);
    // length, metadata and counts change together: a checkpoint snapshots them synchronously
    this.#fileLength += at - groupStart;
    this.#groups.push({ numRows: rows, fileOffset: groupStart, uncompressedBytes: uncompressedTotal, compressedBytes: at - groupStart, columns: metas });
    this.rowsWritten += rows;
    this.rowGroupsWritten++;
  }

  /** Writes the parts back to back (one writev; a short write finishes part by part). */
  async #writeParts(parts: Uint8Array[], total: number): Promise<void> {
    const { bytesWritten } = await this.#handle.writev(parts);
    if (bytesWritten === total) return;
    let skip = bytesWritten;
    for (const part of parts) {
      if (skip >= part.length) {
        skip -= part.length;
        continue;
      }
      await this.#writeAll(part.subarray(skip));
      skip = 0;
    }
  }

  async #writeAll(bytes: Uint8Array): Promise<void> {
    let written = 0;
    while (written < bytes.length) written += (await this.#handle.write(bytes, written, bytes.length - written)).bytesWritten;
  }

  /** Waits for the row group in flight; rethrows its failure. */
  async #settle(): Promise<void> {
    await this.#flight?.done.catch(() => undefined);
    if (this.#flightError !== undefined) this.#fail(this.#flightError);
  }
}

function inferType(value: unknown): ColumnKind {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'boolean') return 'boolean';
  if (typeof value === 'number') return 'double';
  if (typeof value === 'bigint') return 'int64';
  if (typeof value === 'string') return 'string';
  if (value instanceof Date) return 'timestamp';
  if (value instanceof Uint8Array) return 'binary';
  return 'json';
}
