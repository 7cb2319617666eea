/**
 * spillway's own Parquet file writer (its parts: write/options.ts, write/columns.ts,
 * write/row-group.ts, write/footer.ts, and the page encoders under encode/). Rows (`write`) or Arrow record batches (`writeArrow`) are
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
 * | `timestamp` | INT64 TIMESTAMP(MILLIS, UTC)     | Date (a PreciseDate with sub-millisecond digits is refused; inferred as MICROS or NANOS) |
 * | `date`      | INT32 DATE                       | Date (its UTC day)               |
 * | `json`      | BYTE_ARRAY JSON                  | any JSON-serialisable value (inferred for objects of no one nested type) |
 *
 * Nested values (rows: arrays, plain objects, Maps; Arrow: List, LargeList, FixedSizeList, Struct,
 * Map) are written as LIST, STRUCT and MAP groups, one column chunk per leaf with repetition and
 * definition levels (encode/nested-*.ts, encode/levels.ts); a rows column stays JSON text when
 * its first batch's values agree on no one nested type (encode/nested-js.ts has the rule).
 *
 * Arrow -> Parquet (`writeArrow`): Int8/16/32 and Uint8/16/32 -> INT32 with an INT annotation
 * (plain Int32 unannotated), Int64 -> INT64, Uint64 -> INT64 UINT_64, Float32 -> FLOAT, Float64 ->
 * DOUBLE, Bool -> BOOLEAN, Utf8/LargeUtf8 and Dictionary<Utf8> -> STRING, Binary -> BYTE_ARRAY,
 * Date32/Date64 -> DATE, Decimal128/256 -> DECIMAL (BYTE_ARRAY, big-endian two's complement; no
 * min/max statistics), Timestamp s/ms -> TIMESTAMP MILLIS (seconds x1000), us -> MICROS, ns ->
 * NANOS, Null -> an all-null STRING column, nested types as above. Other types throw
 * {@link UnsupportedError}. A Timestamp with a zone (spillway's Arrow from JS Dates carries `UTC`)
 * is written adjusted to UTC (DuckDB's TIMESTAMPTZ); one without a zone (a wall-clock time, as
 * fromParquet reads a TIMESTAMP not adjusted to UTC) is written not adjusted (DuckDB's TIMESTAMP).
 * Rows hold JS Dates, which are instants: the rows path always writes UTC-adjusted timestamps.
 *
 * Schema drift: a batch whose column has another type than the file's is converted when that is
 * exact (Int32 into DOUBLE, Null into any nullable column, an Int64 that fits into INT32...). While
 * the first row group is still buffered and the schema was not declared, the buffered column is
 * widened instead (Int32 -> Float64 or Int64, Null -> anything). Otherwise a
 * {@link SchemaMismatchError} (inferred schema) or {@link FormatError} (declared schema) names the
 * column and both types: nothing is coerced silently, no column is dropped.
 */
import type { ThreadGate } from './encode/row-group-encoder.ts';
import { open, rename, truncate, unlink } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import type { Data, DataType, RecordBatch } from 'apache-arrow';
import { ROWS_METADATA_KEY } from '../arrow/metadata-keys.ts';
import { FormatError, IoError, SchemaMismatchError } from '../../core/errors.ts';
import { forgetTempFile, keepForResume, newTempPath, trackTempFile } from '../../io/temp-files.ts';
import type { CommitPoint } from '../../io/commit-point.ts';
import type { ParquetCompression } from './encode/compress.ts';
import type { RowGroupMeta } from './encode/metadata.ts';
import { RowGroupEncoder } from './encode/row-group-encoder.ts';
import type { EncodedChunk } from './encode/encoded-chunk.ts';
import type { ColumnKind, DecimalSpec } from './encode/schema.ts';
import type { NestedNode } from './encode/nested-schema.ts';
import { encodedColumns } from './encode/nested-column.ts';
import { isNestedArrow, nodeOfArrow } from './encode/nested-arrow.ts';
import { checkWriteOptions, type CheckedWriteOptions, type Field, type ParquetWriteOptions } from './write/options.ts';
import { ColumnSet } from './write/columns.ts';
import { layOutRowGroup, writeAll, writeParts } from './write/row-group.ts';
import { fileTail, MAGIC } from './write/footer.ts';
import { pageIndexBlock } from './encode/page-index.ts';
import { plainArrow } from './write/plain-arrow.ts';
import { checkSelection, type RowSelection } from '../arrow/select.ts';

export type { ParquetCompression };
export type { ColumnKind as ParquetColumnKind, RowGroupMeta as ParquetRowGroupMeta };
export { checkWriteOptions, DEFAULT_ROW_GROUP_BYTES, DEFAULT_ROW_GROUP_SIZE } from './write/options.ts';
export type { ParquetFieldSpec, ParquetWriteOptions, ParquetWriteType } from './write/options.ts';

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
  fields: { name: string; type: ColumnKind; nullable: boolean; nested?: NestedNode; decimal?: DecimalSpec }[];
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
  #codec: ParquetCompression;
  /** The columns and the row group filling. */
  readonly #set: ColumnSet;
  #fileLength = 0;
  #groups: RowGroupMeta[] = [];
  #flight: Flight | undefined;
  #flightError: unknown;
  #state: 'open' | 'committed' | 'aborted' | 'failed' = 'open';
  #lastCheckpoint: ParquetWriterState | undefined;
  readonly #encoder: RowGroupEncoder;

  private constructor(
    path: string,
    tempPath: string,
    handle: FileHandle,
    fields: Field[] | undefined,
    options: CheckedWriteOptions,
  ) {
    const { compression: codec, rowGroupSize, rowGroupBytes } = options;
    this.#encoder = new RowGroupEncoder(codec, options.encoderThread, options.pageBytes);
    this.path = path;
    this.tempPath = tempPath;
    this.#handle = handle;
    this.#codec = codec;
    this.#set = new ColumnSet(path, { rowGroupSize, rowGroupBytes });
    if (fields) this.#set.setFields(fields, false);
  }

  /** Bytes of the file so far (the whole file once committed). */
  get bytesWritten(): number {
    return this.#fileLength;
  }

  /**
   * Validates options synchronously (throws ValidationError), then creates the temporary file.
   * @throws IoError when the temporary file cannot be created
   */
  /** True once row groups are encoded on an encoder thread. */
  get threaded(): boolean {
    return this.#encoder.threaded;
  }

  /** Lets a memory governor decide whether an `'auto'` encoder thread may start (see RowGroupEncoder.setGate). */
  governWith(gate: ThreadGate | undefined): void {
    this.#encoder.setGate(gate);
  }

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
    if (!this.#set.fields) this.#set.inferFromRows(rows, columns);
    for (const row of rows) {
      this.#set.appendRow(row);
      if (this.#set.full()) await this.#flushGroup();
    }
  }

  /**
   * Adds an Arrow record batch, column by column in bulk (no row objects). Columns are matched by
   * name; a column the file lacks is refused, a column the batch lacks is written as nulls.
   * @param batchIndex the batch's index in its source, for error messages
   * @param rows the rows to write, by index (a filter's kept rows, not copied out); all when undefined
   * @throws UnsupportedError for an Arrow type the writer cannot write
   * @throws SchemaMismatchError (inferred schema) or FormatError (declared) for a column whose type cannot be converted exactly
   */
  async writeArrow(given: RecordBatch, batchIndex?: number, rows?: RowSelection): Promise<void> {
    this.#expectOpen();
    const batch = plainArrow(given);
    if (batch.schema.metadata.get(ROWS_METADATA_KEY) === 'array') {
      throw new FormatError(
        'toParquet writes object rows (keyed by column name), got array rows; read CSV with a header or map rows to objects',
        { file: this.path, batch: batchIndex },
      );
    }
    if (!this.#set.fields) this.#set.inferFromArrow(batch, batchIndex);
    const map = this.#set.mapArrow(batch, batchIndex);
    const children = batch.data.children as Data<DataType>[];
    if (rows) checkSelection(rows, batch.numRows);
    const total = rows?.length ?? batch.numRows;
    let offset = 0;
    while (offset < total) {
      const take = this.#set.rowsThatFit(children, map.index, offset, total - offset, rows);
      this.#set.appendArrow(children, map, offset, take, batchIndex, rows);
      offset += take;
      if (this.#set.full()) await this.#flushGroup();
    }
  }

  /**
   * True when every column of `batch` is one {@link ParquetFileWriter.writeArrow} can write as
   * its type; false for a nested column with a part it cannot (an Interval inside a list), which a
   * caller may write as rows instead.
   */
  acceptsArrow(batch: RecordBatch): boolean {
    return batch.schema.fields.every((f) => !isNestedArrow(f.type) || nodeOfArrow(f.type) !== undefined);
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
      fields: this.#set.fields!.map((f) => ({ ...f })),
      inferred: this.#set.inferred,
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
  static async resume(
    path: string,
    options: ParquetWriteOptions | undefined,
    state: ParquetWriterState,
  ): Promise<ParquetFileWriter> {
    const checked = checkWriteOptions(options);
    let handle: FileHandle;
    try {
      if (!Array.isArray(state.groups) || state.groups.length !== state.rowGroups)
        throw new Error('the checkpoint does not hold the row groups written');
      const probe = await open(state.tempPath, 'r');
      const { size } = await probe.stat().finally(() => probe.close());
      if (size < state.length) throw new Error(`it holds ${size} bytes, fewer than the ${state.length} committed`);
      await truncate(state.tempPath, state.length);
      handle = await open(state.tempPath, 'a');
    } catch (error) {
      throw new IoError(
        `Cannot resume Parquet file from ${state.tempPath}: ${(error as Error).message}`,
        { file: path },
        { cause: error },
      );
    }
    const w = new ParquetFileWriter(path, state.tempPath, handle, undefined, checked);
    trackTempFile(state.tempPath);
    w.#set.setFields(
      state.fields.map((f) => ({ ...f })),
      state.inferred,
    );
    w.#fileLength = state.length;
    w.#groups = state.groups.slice();
    w.#set.groupsFlushed = state.rowGroups;
    w.rowsWritten = state.rows;
    w.#set.rowsSeen = state.rows;
    w.rowGroupsWritten = state.rowGroups;
    return w;
  }

  /** Closes the file and leaves the temporary file in place (a checkpoint refers to it). */
  async release(): Promise<void> {
    await this.#stop();
  }

  /** Writes the last row group and the footer, fsyncs, and renames the file into place. */
  async commit(point?: CommitPoint): Promise<void> {
    this.#expectOpen();
    try {
      if (!this.#set.fields)
        throw new FormatError('Cannot infer a Parquet schema without rows; declare `schema`', { file: this.path });
      if (this.#set.pendingRows > 0) await this.#flushGroup();
      await this.#settle();
      await this.#encoder.close();
      this.#set.resolveNullKinds();
      // the page indexes of every chunk, then the footer that points at them
      const indexes = pageIndexBlock(this.#groups, this.#fileLength);
      await writeAll(this.#handle, indexes.bytes);
      this.#fileLength += indexes.bytes.length;
      const tail = fileTail(this.#set.schemaColumns(), indexes.groups);
      await writeAll(this.#handle, tail);
      this.#fileLength += tail.length;
      await this.#handle.sync();
      await this.#handle.close();
      point?.enter(this.path);
      await rename(this.tempPath, this.path);
      await forgetTempFile(this.tempPath);
      this.#state = 'committed';
    } catch (error) {
      await this.abort().catch(() => undefined);
      if (error instanceof FormatError || error instanceof IoError || error instanceof SchemaMismatchError) throw error;
      throw new IoError(
        `Cannot write Parquet file: ${(error as Error).message}`,
        { file: this.path },
        { cause: error },
      );
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
    this.#set.columns = [];
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
    throw new IoError(
      `Cannot write Parquet row group: ${(error as Error).message}`,
      { file: this.path, row: this.rowsWritten },
      { cause: error },
    );
  }

  /** Encodes the buffered row group and sends it on its way to the file. */
  async #flushGroup(): Promise<void> {
    const rows = this.#set.pendingRows;
    if (rows === 0) return;
    this.#set.resolveNullKinds();
    let encoded: Promise<EncodedChunk[]>;
    try {
      // takes the columns' rows now (encoded, or copied for the encoder thread): they are reset next
      encoded = this.#encoder.encode(encodedColumns(this.#set.columns), rows);
    } catch (error) {
      this.#fail(error);
    }
    encoded.catch(() => undefined);
    for (const col of this.#set.columns) col.reset();
    this.#set.pendingRows = 0;
    this.#set.rowsSeen += rows;
    this.#set.groupsFlushed++;
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
    const group = layOutRowGroup(await encoded, rows, this.#fileLength, this.#codec);
    await writeParts(this.#handle, group.parts, group.length);
    // length, metadata and counts change together: a checkpoint snapshots them synchronously
    this.#fileLength += group.length;
    this.#groups.push(group.meta);
    this.rowsWritten += rows;
    this.rowGroupsWritten++;
  }

  /** Waits for the row group in flight; rethrows its failure. */
  async #settle(): Promise<void> {
    await this.#flight?.done.catch(() => undefined);
    if (this.#flightError !== undefined) this.#fail(this.#flightError);
  }
}
