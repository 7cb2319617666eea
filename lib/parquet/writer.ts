/**
 * Parquet file writer over hyparquet-writer's encoder (chosen by measurement, see the helper's
 * report: about 4x parquetjs-lite's rows/s on the same data). Rows are converted into column
 * arrays as they arrive (the row objects are not kept) and one row group is encoded and written
 * (async, through a FileHandle) each time `rowGroupSize` rows or `rowGroupBytes` (estimated
 * in-memory bytes of those rows) have arrived, whichever comes first. Encoding a row group makes
 * several transient copies of its columns (hyparquet-writer slices, unconverts strings to one
 * Uint8Array each, levels, pages), about 5x the rows' own size: the byte bound is what keeps
 * peak memory flat whatever the row width. The file is written under a temporary name,
 * fsynced and renamed on {@link ParquetFileWriter.commit}; {@link ParquetFileWriter.abort}
 * removes it.
 *
 * JavaScript -> Parquet types (declared, or inferred from the first row group):
 *
 * | type        | Parquet                          | accepts                          |
 * |-------------|----------------------------------|----------------------------------|
 * | `boolean`   | BOOLEAN                          | boolean                          |
 * | `int32`     | INT32                            | integer number in int32 range    |
 * | `int64`     | INT64                            | bigint, or a safe integer number |
 * | `double`    | DOUBLE (inferred for numbers: a JS number is a double, so no widening problem later) | number |
 * | `string`    | BYTE_ARRAY UTF8 (inferred for all-null columns) | string            |
 * | `binary`    | BYTE_ARRAY                       | Uint8Array                       |
 * | `timestamp` | INT64 TIMESTAMP_MILLIS (UTC)     | Date                             |
 * | `date`      | INT32 DATE                       | Date (its UTC day)               |
 * | `json`      | BYTE_ARRAY JSON                  | any JSON-serialisable value (inferred for other objects) |
 *
 * null and undefined write null. A value that does not fit its column's type throws a
 * FormatError naming the column and row: nothing is coerced silently.
 */
import { open, rename, truncate, unlink } from 'node:fs/promises';
import { deserialize, serialize } from 'node:v8';
import type { FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { ByteWriter, ParquetWriter } from 'hyparquet-writer';
import type { SchemaElement } from 'hyparquet';
import { compress as zstdCompress } from 'zstd-napi';
import { estimateRowsBytes } from '../batch.ts';
import { FormatError, IoError, ValidationError, describeValue } from '../errors.ts';
import { expectInteger, expectOneOf, expectOptions, parseBytes } from '../validate.ts';
import type { ByteSize } from '../validate.ts';

/** A column type the writer can declare. See the module's table. */
export type ParquetWriteType = 'boolean' | 'int32' | 'int64' | 'double' | 'string' | 'binary' | 'timestamp' | 'date' | 'json';

/** A declared column: a type, or a type with nullability (default nullable). */
export type ParquetFieldSpec = ParquetWriteType | { type: ParquetWriteType; nullable?: boolean };

/** Compression codecs the writer offers. */
export type ParquetCompression = 'snappy' | 'gzip' | 'zstd' | 'uncompressed';

/** Options of {@link ParquetFileWriter.open}. */
export interface ParquetWriteOptions {
  /** Column name -> type, in column order. When omitted, inferred from the first row group. */
  schema?: Record<string, ParquetFieldSpec>;
  /** Page compression (default `'snappy'`). */
  compression?: ParquetCompression;
  /** Most rows per row group (default 100000). */
  rowGroupSize?: number;
  /**
   * Most estimated in-memory bytes of the rows of one row group (default `'32MB'`); a row group
   * ends at `rowGroupSize` rows or at this size, whichever comes first. Peak memory while
   * encoding is a few times this.
   */
  rowGroupBytes?: ByteSize;
}

/** Default of {@link ParquetWriteOptions.rowGroupSize}. */
export const DEFAULT_ROW_GROUP_SIZE = 100_000;
/** Default of {@link ParquetWriteOptions.rowGroupBytes}, in bytes. */
export const DEFAULT_ROW_GROUP_BYTES = 32e6;

const TYPES: readonly ParquetWriteType[] = ['boolean', 'int32', 'int64', 'double', 'string', 'binary', 'timestamp', 'date', 'json'];
const CODECS = { snappy: 'SNAPPY', gzip: 'GZIP', zstd: 'ZSTD', uncompressed: 'UNCOMPRESSED' } as const;

interface Field {
  name: string;
  type: ParquetWriteType;
  nullable: boolean;
}

function element(f: Field): SchemaElement {
  const repetition_type = f.nullable ? 'OPTIONAL' : 'REQUIRED';
  switch (f.type) {
    case 'boolean': return { name: f.name, type: 'BOOLEAN', repetition_type };
    case 'int32': return { name: f.name, type: 'INT32', repetition_type };
    case 'int64': return { name: f.name, type: 'INT64', repetition_type };
    case 'double': return { name: f.name, type: 'DOUBLE', repetition_type };
    case 'string': return { name: f.name, type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type };
    case 'binary': return { name: f.name, type: 'BYTE_ARRAY', repetition_type };
    case 'timestamp': return { name: f.name, type: 'INT64', converted_type: 'TIMESTAMP_MILLIS', repetition_type };
    case 'date': return { name: f.name, type: 'INT32', converted_type: 'DATE', repetition_type };
    case 'json': return { name: f.name, type: 'BYTE_ARRAY', converted_type: 'JSON', repetition_type };
  }
}

function inferType(value: unknown): ParquetWriteType | undefined {
  if (value === null || value === undefined) return undefined;
  if (typeof value === 'boolean') return 'boolean';
  if (typeof value === 'number') return 'double';
  if (typeof value === 'bigint') return 'int64';
  if (typeof value === 'string') return 'string';
  if (value instanceof Date) return 'timestamp';
  if (value instanceof Uint8Array) return 'binary';
  return 'json';
}

/** Checks and converts one value for its column; returns the value hyparquet-writer expects. */
function coerce(f: Field, value: unknown, row: number, file: string): unknown {
  if (value === null || value === undefined) {
    if (!f.nullable) throw new FormatError(`Column \`${f.name}\` is not nullable but got ${describeValue(value)}`, { file, row });
    return null;
  }
  const bad = (): never => {
    throw new FormatError(`Column \`${f.name}\` has type ${f.type} but got ${describeValue(value)}`, { file, row });
  };
  switch (f.type) {
    case 'boolean': return typeof value === 'boolean' ? value : bad();
    case 'int32': return typeof value === 'number' && Number.isInteger(value) && value >= -(2 ** 31) && value < 2 ** 31 ? value : bad();
    case 'int64':
      if (typeof value === 'bigint') return value >= -(2n ** 63n) && value < 2n ** 63n ? value : bad();
      return typeof value === 'number' && Number.isSafeInteger(value) ? BigInt(value) : bad();
    case 'double': return typeof value === 'number' ? value : bad();
    case 'string': return typeof value === 'string' ? value : bad();
    case 'binary': return value instanceof Uint8Array ? value : bad();
    case 'timestamp':
    case 'date': return value instanceof Date && !Number.isNaN(value.getTime()) ? value : bad();
    case 'json': return value;
  }
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
}

/**
 * Validates writer options synchronously (sinks call it in their factory, before any file is
 * created).
 * @throws ValidationError naming the option
 */
export function checkWriteOptions(options: ParquetWriteOptions | undefined): CheckedWriteOptions {
  const opts = expectOptions(options);
  const compression = expectOneOf(opts.compression, 'options.compression', Object.keys(CODECS) as ParquetCompression[], 'snappy');
  const rowGroupSize = expectInteger(opts.rowGroupSize, 'options.rowGroupSize', DEFAULT_ROW_GROUP_SIZE);
  const rowGroupBytes = opts.rowGroupBytes === undefined ? DEFAULT_ROW_GROUP_BYTES : parseBytes(opts.rowGroupBytes, 'options.rowGroupBytes');
  if (rowGroupBytes < 1) throw new ValidationError(`Expected \`options.rowGroupBytes\` to be at least 1 byte, got ${describeValue(opts.rowGroupBytes)}`);
  if (opts.schema !== undefined && (typeof opts.schema !== 'object' || opts.schema === null || Array.isArray(opts.schema))) {
    throw new ValidationError(`Expected \`options.schema\` to be an object of column types, got ${describeValue(opts.schema)}`);
  }
  const fields = opts.schema === undefined ? undefined : parseSchema(opts.schema);
  return { fields, compression, rowGroupSize, rowGroupBytes };
}

/**
 * What a checkpoint keeps of a Parquet file being written: the temporary file, its length after
 * the last complete row group, and the encoder's metadata of the row groups written (so the
 * footer of the continued file is the one an uninterrupted run writes).
 */
export interface ParquetWriterState {
  tempPath: string;
  length: number;
  rows: number;
  rowGroups: number;
  fields: { name: string; type: ParquetWriteType; nullable: boolean }[];
  inferred: boolean;
  /** hyparquet-writer's row groups, row count and page indexes, v8-serialised (BigInts, shared objects), base64. */
  encoder: string;
}

/** Writes rows to a Parquet file, one row group at a time. */
export class ParquetFileWriter {
  /** Final path of the file. */
  readonly path: string;
  /** Temporary path written until commit. */
  readonly tempPath: string;
  /** Rows written so far (in finished row groups). */
  rowsWritten = 0;
  /** Row groups written so far. */
  rowGroupsWritten = 0;
  #handle: FileHandle;
  #fields: Field[] | undefined;
  /** True when the schema was inferred: a row with a column outside it is refused, not dropped. */
  #inferred = false;
  #known: Set<string> | undefined;
  #codec: (typeof CODECS)[ParquetCompression];
  #rowGroupSize: number;
  #rowGroupBytes: number;
  /** Rows waiting for the schema to be inferred (only before the first row group). */
  #rawRows: Record<string, unknown>[] = [];
  /** Coerced values of the current row group, one array per field. */
  #columns: unknown[][] = [];
  #pendingRows = 0;
  #pendingBytes = 0;
  #bytes: ByteWriter;
  #writer: ParquetWriter | undefined;
  #state: 'open' | 'committed' | 'aborted' | 'failed' = 'open';
  #lastCheckpoint: ParquetWriterState | undefined;

  private constructor(path: string, tempPath: string, handle: FileHandle, fields: Field[] | undefined, codec: (typeof CODECS)[ParquetCompression], rowGroupSize: number, rowGroupBytes: number) {
    this.path = path;
    this.tempPath = tempPath;
    this.#handle = handle;
    this.#codec = codec;
    this.#rowGroupSize = rowGroupSize;
    this.#rowGroupBytes = rowGroupBytes;
    this.#bytes = new ByteWriter(1 << 20);
    if (fields) this.#setFields(fields, false);
  }

  /** Bytes of the file so far (the whole file once committed). */
  get bytesWritten(): number {
    return this.#bytes.offset;
  }

  /**
   * Validates options synchronously (throws ValidationError), then creates the temporary file.
   * @throws IoError when the temporary file cannot be created
   */
  static open(path: string, options?: ParquetWriteOptions): Promise<ParquetFileWriter> {
    const { fields, compression, rowGroupSize, rowGroupBytes } = checkWriteOptions(options);
    const tempPath = join(dirname(path), `.${basename(path)}.${process.pid}.${Math.random().toString(36).slice(2, 10)}.tmp`);
    return open(tempPath, 'wx').then(
      (handle) => new ParquetFileWriter(path, tempPath, handle, fields, CODECS[compression], rowGroupSize, rowGroupBytes),
      (error: unknown) => {
        throw new IoError(`Cannot create Parquet file: ${(error as Error).message}`, { file: path }, { cause: error });
      },
    );
  }

  /**
   * Adds rows; writes a row group each time `rowGroupSize` rows or `rowGroupBytes` are pending.
   * The rows are converted at once and not kept (except, before an inferred schema is fixed, the
   * rows it is inferred from).
   */
  async write(rows: readonly Record<string, unknown>[]): Promise<void> {
    this.#expectOpen();
    if (rows.length === 0) return;
    const perRow = estimateRowsBytes(rows as Record<string, unknown>[]) / rows.length;
    for (const row of rows) {
      if (this.#fields) this.#append(row);
      else this.#rawRows.push(row);
      this.#pendingRows++;
      this.#pendingBytes += perRow;
      if (this.#pendingRows >= this.#rowGroupSize || this.#pendingBytes >= this.#rowGroupBytes) await this.#flushGroup();
    }
    // fix the inferred schema as soon as every column seen has a type: later rows are then converted as they come
    if (!this.#fields && this.#rawRows.length > 0) {
      const types = inferTypes(this.#rawRows);
      if ([...types.values()].every((t) => t !== undefined)) this.#fixInferred(types);
    }
  }

  /**
   * Fsyncs the row groups written so far and describes them (for a checkpoint); undefined while
   * no row group is complete. Rows pending in the current row group are not part of it.
   */
  async checkpoint(): Promise<ParquetWriterState | undefined> {
    this.#expectOpen();
    const writer = this.#writer;
    if (writer === undefined || this.rowGroupsWritten === 0) return undefined;
    // no new row group since the last checkpoint: nothing more to make durable
    if (this.#lastCheckpoint?.rowGroups === this.rowGroupsWritten) return this.#lastCheckpoint;
    // the snapshot is taken now, synchronously (rows keep arriving while the fsync runs); every
    // row group it counts is already in the file (a write resolves after its row groups' bytes are)
    const encoder = serialize({ row_groups: writer.row_groups, num_rows: writer.num_rows, pendingIndexes: writer.pendingIndexes }).toString('base64');
    const state: ParquetWriterState = {
      tempPath: this.tempPath,
      length: this.#bytes.offset - this.#bytes.index,
      rows: this.rowsWritten,
      rowGroups: this.rowGroupsWritten,
      fields: this.#fields!.map((f) => ({ ...f })),
      inferred: this.#inferred,
      encoder,
    };
    await this.#handle.sync();
    this.#lastCheckpoint = state;
    return state;
  }

  /**
   * Continues the file of an interrupted run from a {@link ParquetFileWriter.checkpoint} state:
   * the temporary file is cut back to the committed length and appended to.
   * @throws IoError when the temporary file is missing or shorter than the state says
   */
  static async resume(path: string, options: ParquetWriteOptions | undefined, state: ParquetWriterState): Promise<ParquetFileWriter> {
    const { compression, rowGroupSize, rowGroupBytes } = checkWriteOptions(options);
    let handle: FileHandle;
    try {
      const probe = await open(state.tempPath, 'r');
      const { size } = await probe.stat().finally(() => probe.close());
      if (size < state.length) throw new Error(`it holds ${size} bytes, fewer than the ${state.length} committed`);
      await truncate(state.tempPath, state.length);
      handle = await open(state.tempPath, 'a');
    } catch (error) {
      throw new IoError(`Cannot resume Parquet file from ${state.tempPath}: ${(error as Error).message}`, { file: path }, { cause: error });
    }
    const fields = state.fields.map((f) => ({ ...f }));
    const w = new ParquetFileWriter(path, state.tempPath, handle, undefined, CODECS[compression], rowGroupSize, rowGroupBytes);
    w.#setFields(fields, state.inferred);
    const writer = w.#start(fields);
    // the encoder wrote the PAR1 magic into its buffer: the file already has it
    w.#bytes.index = 0;
    w.#bytes.offset = state.length;
    const saved = deserialize(Buffer.from(state.encoder, 'base64')) as Pick<ParquetWriter, 'row_groups' | 'num_rows' | 'pendingIndexes'>;
    writer.row_groups = saved.row_groups;
    writer.num_rows = saved.num_rows;
    writer.pendingIndexes = saved.pendingIndexes;
    w.#writer = writer;
    w.rowsWritten = state.rows;
    w.rowGroupsWritten = state.rowGroups;
    return w;
  }

  /** Closes the file and leaves the temporary file in place (a checkpoint refers to it). */
  async release(): Promise<void> {
    if (this.#state === 'committed' || this.#state === 'aborted') return;
    this.#state = 'aborted';
    this.#rawRows = [];
    this.#columns = [];
    await this.#handle.close().catch(() => undefined);
  }

  /** Writes the last row group and the footer, fsyncs, and renames the file into place. */
  async commit(): Promise<void> {
    this.#expectOpen();
    try {
      if (this.#pendingRows > 0 || this.#writer === undefined) await this.#flushGroup();
      await this.#writer!.finish();
      await this.#handle.sync();
      await this.#handle.close();
      await rename(this.tempPath, this.path);
      this.#state = 'committed';
    } catch (error) {
      await this.abort().catch(() => undefined);
      throw error instanceof FormatError ? error : new IoError(`Cannot write Parquet file: ${(error as Error).message}`, { file: this.path }, { cause: error });
    }
  }

  /** Closes and removes the temporary file. Idempotent; a no-op after commit. */
  async abort(): Promise<void> {
    if (this.#state === 'committed' || this.#state === 'aborted') return;
    this.#state = 'aborted';
    this.#rawRows = [];
    this.#columns = [];
    await this.#handle.close().catch(() => undefined);
    await unlink(this.tempPath).catch(() => undefined);
  }

  #expectOpen(): void {
    if (this.#state !== 'open') throw new IoError(`Parquet writer is ${this.#state}`, { file: this.path });
  }

  #start(fields: Field[]): ParquetWriter {
    const bytes = this.#bytes;
    const handle = this.#handle;
    const flush = async (): Promise<void> => {
      // copy out: the encoder reuses its buffer for the next row group
      const chunk = new Uint8Array(bytes.buffer, 0, bytes.index);
      let written = 0;
      while (written < chunk.length) written += (await handle.write(chunk, written, chunk.length - written)).bytesWritten;
      bytes.index = 0;
    };
    Object.assign(bytes, { flush, finish: flush });
    return new ParquetWriter({
      writer: bytes,
      schema: [{ name: 'root', num_children: fields.length }, ...fields.map(element)],
      codec: this.#codec,
      compressors: {
        GZIP: (input: Uint8Array) => gzipSync(input),
        ZSTD: (input: Uint8Array) => zstdCompress(input),
      },
      createdBy: 'spillway (hyparquet-writer)',
    });
  }

  #setFields(fields: Field[], inferred: boolean): void {
    this.#fields = fields;
    this.#inferred = inferred;
    this.#known = inferred ? new Set(fields.map((f) => f.name)) : undefined;
    this.#columns = fields.map(() => []);
  }

  #fixInferred(types: Map<string, ParquetWriteType | undefined>): void {
    if (types.size === 0) throw new FormatError('Cannot infer a Parquet schema without columns; declare `schema`', { file: this.path });
    this.#setFields([...types].map(([name, type]) => ({ name, type: type ?? 'string', nullable: true })), true);
    const raw = this.#rawRows;
    this.#rawRows = [];
    for (const row of raw) this.#append(row);
  }

  /** Converts one row into the pending columns. */
  #append(row: Record<string, unknown>): void {
    const fields = this.#fields!;
    const rowIndex = this.rowsWritten + this.#columns[0]!.length;
    if (this.#known) {
      // an inferred schema must not drop a column that shows up later
      for (const key in row) {
        if (!this.#known.has(key)) {
          throw new FormatError(`Row has column \`${key}\`, which the Parquet schema inferred from the first rows lacks; declare \`options.schema\``, { file: this.path, row: rowIndex });
        }
      }
    }
    const columns = this.#columns;
    const before = columns[0]!.length;
    try {
      for (let c = 0; c < fields.length; c++) {
        const f = fields[c]!;
        columns[c]!.push(coerce(f, row[f.name], rowIndex, this.path));
      }
    } catch (error) {
      // keep the columns aligned: drop the part of the refused row already appended
      for (const column of columns) column.length = before;
      throw error;
    }
  }

  async #flushGroup(): Promise<void> {
    if (!this.#fields) {
      const types = inferTypes(this.#rawRows);
      if (types.size === 0) throw new FormatError('Cannot infer a Parquet schema without rows; declare `schema`', { file: this.path });
      this.#fixInferred(types);
    }
    const fields = this.#fields!;
    const columns = this.#columns;
    const count = columns[0]!.length;
    // release the group's values as soon as the encoder is done with them
    this.#columns = fields.map(() => []);
    this.#pendingRows = 0;
    this.#pendingBytes = 0;
    this.#writer ??= this.#start(fields);
    try {
      const columnData = fields.map((f, c) => ({ name: f.name, data: columns[c]! }));
      await this.#writer.write({ columnData, rowGroupSize: Math.max(count, 1) });
    } catch (error) {
      // a half-written row group cannot be taken back: the writer can only be aborted now
      this.#state = 'failed';
      if (error instanceof FormatError) throw error;
      throw new IoError(`Cannot write Parquet row group: ${(error as Error).message}`, { file: this.path, row: this.rowsWritten }, { cause: error });
    }
    this.rowsWritten += count;
    if (count > 0) this.rowGroupsWritten++;
  }
}

/** Column name -> inferred type (undefined while only nulls were seen), in order of first appearance. */
function inferTypes(rows: readonly Record<string, unknown>[]): Map<string, ParquetWriteType | undefined> {
  const types = new Map<string, ParquetWriteType | undefined>();
  for (const row of rows) {
    for (const [k, v] of Object.entries(row)) {
      if (types.get(k) === undefined) types.set(k, inferType(v));
    }
  }
  return types;
}
