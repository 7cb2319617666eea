/**
 * An Arrow IPC writer that awaits real file writes. apache-arrow's writer encodes (and
 * compresses) synchronously into an in-memory queue and its Node adapter acknowledges writes
 * before they reach the disk; here each encoded batch is written with FileHandle.writev and
 * `write()` resolves once the previous batch is on its way, so the caller encodes batch N+1 while
 * batch N is written (one write in flight: backpressure plus overlap). A batch whose schema
 * differs is refused with SchemaMismatchError, instead of apache-arrow silently closing the file
 * and dropping it (arrow-js#388). The file is written under a temporary name; `commit()` writes
 * the footer, fsyncs and renames; `abort()` unlinks.
 */
import { open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import createDebug from 'debug';
import { RecordBatchFileWriter, RecordBatchStreamWriter, util, type RecordBatch, type Schema } from 'apache-arrow';
import { IoError, SchemaMismatchError, SpillwayError } from '../errors.ts';
import { expectOneOf } from '../validate.ts';
import { registerArrowCodecs, toCompressionType, type Compression } from './codecs.ts';
import type { ArrowFormat } from './ipc-reader.ts';

const debug = createDebug('spillway:arrow');

/** Options of {@link ArrowFileWriter.open}. */
export interface ArrowFileWriterOptions {
  /** The schema every batch must have. */
  schema: Schema;
  /** Body compression: `lz4` (LZ4 frame), `zstd`, or `null`/`'none'`. Default `null`. */
  compression?: Compression | 'none';
  /** `file` (default: footer, random access) or `stream`. */
  format?: ArrowFormat;
  /** File mode of the written file. Default 0o644 (spill files pass 0o600). */
  mode?: number;
}

interface ByteCollector {
  closed: boolean;
  chunks: Uint8Array[];
  bytes: number;
  write(chunk: Uint8Array): void;
  close(): void;
  abort(): void;
}

function collector(): ByteCollector {
  return {
    closed: false,
    chunks: [],
    bytes: 0,
    write(chunk) {
      this.chunks.push(chunk);
      this.bytes += chunk.byteLength;
    },
    close() {
      this.closed = true;
    },
    abort() {
      this.closed = true;
    },
  };
}

/** Writes an Arrow IPC file or stream to disk, batch by batch, with awaited writes. */
export class ArrowFileWriter {
  /** Final path (the file appears there on {@link ArrowFileWriter.commit}). */
  readonly path: string;
  /** Temporary path written until commit. */
  readonly tempPath: string;
  /** The schema every batch must match. */
  readonly schema: Schema;
  /** Body compression. */
  readonly compression: Compression;
  /** IPC format. */
  readonly format: ArrowFormat;
  readonly #handle: FileHandle;
  readonly #writer: RecordBatchFileWriter | RecordBatchStreamWriter;
  readonly #sink: ByteCollector;
  #position = 0;
  #pending: Promise<void> = Promise.resolve();
  #failure: unknown;
  #state: 'open' | 'committed' | 'aborted' = 'open';
  #numRows = 0;
  #numBatches = 0;

  private constructor(file: string, tempPath: string, handle: FileHandle, schema: Schema, compression: Compression, format: ArrowFormat) {
    this.path = file;
    this.tempPath = tempPath;
    this.#handle = handle;
    this.schema = schema;
    this.compression = compression;
    this.format = format;
    const compressionType = toCompressionType(compression);
    this.#writer = format === 'file' ? new RecordBatchFileWriter({ compressionType }) : new RecordBatchStreamWriter({ compressionType });
    // Swap apache-arrow's in-memory queue for a collector we drain after each synchronous write.
    this.#sink = collector();
    (this.#writer as unknown as { _sink: ByteCollector })._sink = this.#sink;
    this.#writer.reset(this.#sink as never, schema);
  }

  /**
   * Opens `<dir>/.<name>.<random>.tmp` for writing. Validates options synchronously (throws
   * ValidationError), then throws {@link IoError} when the file cannot be created.
   */
  static async open(file: string, options: ArrowFileWriterOptions): Promise<ArrowFileWriter> {
    const compression = expectOneOf(options.compression ?? 'none', 'options.compression', ['lz4', 'zstd', 'none'], 'none');
    const format = expectOneOf(options.format, 'options.format', ['file', 'stream'], 'file');
    registerArrowCodecs();
    const tempPath = path.join(path.dirname(file), `.${path.basename(file)}.${randomBytes(6).toString('hex')}.tmp`);
    let handle: FileHandle;
    try {
      handle = await open(tempPath, 'wx', options.mode ?? 0o644);
    } catch (error) {
      throw new IoError(`Cannot create Arrow file: ${(error as Error).message}`, { file }, { cause: error });
    }
    const writer = new ArrowFileWriter(file, tempPath, handle, options.schema, compression === 'none' ? null : compression, format);
    writer.#flush();
    return writer;
  }

  /** Bytes written to disk so far (awaited writes only). */
  get bytesWritten(): number {
    return this.#position;
  }

  /** Rows written (accepted) so far. */
  get numRows(): number {
    return this.#numRows;
  }

  /** Batches written (accepted) so far. */
  get numBatches(): number {
    return this.#numBatches;
  }

  /** True when `batch` can be written to this file (same schema as apache-arrow compares it). */
  schemaMatches(batch: RecordBatch): boolean {
    return util.compareSchemas(this.schema, batch.schema);
  }

  /** Moves what apache-arrow encoded into a chained disk write. */
  #flush(): Promise<void> {
    const chunks = this.#sink.chunks;
    const bytes = this.#sink.bytes;
    this.#sink.chunks = [];
    this.#sink.bytes = 0;
    const previous = this.#pending;
    if (bytes === 0) return previous;
    this.#pending = previous.then(() => this.#writeChunks(chunks, bytes));
    // remember the first failure; later writes are skipped
    this.#pending = this.#pending.catch((error: unknown) => {
      this.#failure ??= error;
    });
    return previous;
  }

  async #writeChunks(chunks: Uint8Array[], bytes: number): Promise<void> {
    if (this.#failure !== undefined) return;
    let buffers: NodeJS.ArrayBufferView[] = chunks;
    let left = bytes;
    while (left > 0) {
      const { bytesWritten } = await this.#handle.writev(buffers, this.#position);
      this.#position += bytesWritten;
      left -= bytesWritten;
      if (left > 0) buffers = [Buffer.concat(buffers.map((b) => Buffer.from(b.buffer, b.byteOffset, b.byteLength))).subarray(bytes - left)];
    }
  }

  #throwIfFailed(): void {
    if (this.#failure !== undefined) {
      const error = this.#failure;
      throw error instanceof SpillwayError ? error : new IoError(`Writing Arrow file failed: ${(error as Error).message}`, { file: this.path }, { cause: error });
    }
  }

  /**
   * Encodes `batch` now and writes it after the previous one; resolves when the previous
   * batch's write has finished (so at most one write is in flight). Throws
   * {@link SchemaMismatchError} when the schema differs (nothing is written), {@link IoError}
   * when an earlier write failed.
   */
  async write(batch: RecordBatch): Promise<void> {
    if (this.#state !== 'open') throw new IoError(`Arrow writer is already ${this.#state}`, { file: this.path });
    this.#throwIfFailed();
    if (!this.schemaMatches(batch)) {
      throw new SchemaMismatchError(`Batch schema differs from the file's schema (${describe(batch.schema)} vs ${describe(this.schema)}); start a new file or conform the batch`, { file: this.path, batch: this.#numBatches });
    }
    this.#writer.write(batch);
    if (this.#sink.closed) throw new IoError('apache-arrow closed the writer unexpectedly', { file: this.path });
    this.#numRows += batch.numRows;
    this.#numBatches++;
    await this.#flush();
    this.#throwIfFailed();
  }

  /** Waits until every accepted batch is on disk (not fsynced). */
  async drain(): Promise<void> {
    await this.#pending;
    this.#throwIfFailed();
  }

  /** Writes the end-of-stream marker (and footer), fsyncs, closes and renames to {@link path}. */
  async commit(): Promise<{ path: string; bytes: number; numRows: number; numBatches: number }> {
    if (this.#state !== 'open') throw new IoError(`Arrow writer is already ${this.#state}`, { file: this.path });
    try {
      this.#writer.finish();
      this.#flush();
      await this.#pending;
      this.#throwIfFailed();
      await this.#handle.sync();
      await this.#handle.close();
      await rename(this.tempPath, this.path);
      this.#state = 'committed';
    } catch (error) {
      await this.abort().catch(() => {});
      throw error instanceof SpillwayError ? error : new IoError(`Committing Arrow file failed: ${(error as Error).message}`, { file: this.path }, { cause: error });
    }
    debug('committed %s: %d batches, %d rows, %d bytes', this.path, this.#numBatches, this.#numRows, this.#position);
    return { path: this.path, bytes: this.#position, numRows: this.#numRows, numBatches: this.#numBatches };
  }

  /** Stops writing and deletes the temporary file. Idempotent; no-op after commit. */
  async abort(): Promise<void> {
    if (this.#state !== 'open') return;
    this.#state = 'aborted';
    await this.#pending;
    await this.#handle.close().catch(() => {});
    await unlink(this.tempPath).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT') throw new IoError(`Cannot remove temporary Arrow file: ${error.message}`, { file: this.tempPath }, { cause: error });
    });
  }
}

function describe(schema: Schema): string {
  const text = schema.fields.map((f) => `${f.name}: ${String(f.type)}`).join(', ');
  return `{${text.length > 120 ? `${text.slice(0, 117)}...` : text}}`;
}
