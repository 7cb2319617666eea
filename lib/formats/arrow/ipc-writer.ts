/**
 * An Arrow IPC writer that awaits real file writes. apache-arrow's writer encodes (and
 * compresses) synchronously into an in-memory queue and its Node adapter acknowledges writes
 * before they reach the disk; here each encoded batch is written with FileHandle.writev and
 * `write()` resolves once fewer than `window` batches are in flight (backpressure plus overlap).
 * With LZ4 the body buffers are compressed by lz4-napi's async `compressFrame` on the libuv
 * threadpool, several buffers and batches at once, while the main thread goes on producing
 * batches and earlier batches are written: compression, encoding and disk writes overlap and use
 * every core. A batch whose schema differs is refused with SchemaMismatchError, instead of
 * apache-arrow silently closing the file and dropping it (arrow-js#388). The file is written
 * under a temporary name; `commit()` writes the footer, fsyncs and renames; `abort()` unlinks.
 * Every byte written is CRC-32'd on the way (whole file and per batch message).
 */
import { open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { forgetTempFile, newTempPath } from '../../io/temp-files.ts';
import { logger } from '../../core/log.ts';
import {
  DataType,
  RecordBatchFileWriter,
  RecordBatchStreamWriter,
  util,
  type RecordBatch,
  type Schema,
} from 'apache-arrow';
import { rebaseViews } from './rebase-views.ts';
import { crc32 } from '../checksum.ts';
import { crc32Combine } from '../spill/crc-combine.ts';
import { IoError, SchemaMismatchError, SpillwayError, UnsupportedError } from '../../core/errors.ts';
import { expectInteger, expectOneOf } from '../../core/validate.ts';
import { recordBatchBytes } from './convert.ts';
import { registerArrowCodecs, toCompressionType, type Compression } from './codecs.ts';
import {
  assembleCompressed,
  assembleStored,
  collector,
  lz4Frame,
  zstdOffThread,
  type AssembleFn,
  type Assembled,
  type ByteCollector,
} from './ipc-assemble.ts';
import type { ArrowFormat } from './ipc-reader.ts';

const debug = logger('arrow');

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
  /**
   * Batches accepted but not yet on disk before `write()` waits (default 4 with LZ4, whose
   * compression runs off the main thread; 2 otherwise: one written while the next is encoded).
   */
  window?: number;
  /**
   * Bytes of batches accepted but not yet on disk (their uncompressed size plus the encoded
   * copy) before `write()` waits, whatever `window` says; one batch is always let through.
   * Default unbounded. Spill sinks set it so a budget counts what the writer holds.
   */
  maxBytesInFlight?: number;
  /** Whether `commit()` fsyncs before the rename (default true; scratch files skip it). */
  fsync?: boolean;
}

/** Where one record batch's message (metadata, body, and any dictionary before it) sits in the file. */
export interface BatchRange {
  /** Byte offset of the first byte. */
  offset: number;
  /** Length in bytes. */
  length: number;
  /** CRC-32 of those bytes. */
  crc32: number;
}

/** What {@link ArrowFileWriter.commit} returns. */
export interface ArrowFileCommit {
  path: string;
  bytes: number;
  numRows: number;
  numBatches: number;
  /** CRC-32 of the whole file. */
  crc32: number;
  /** Per batch: its byte range and CRC-32. */
  batchRanges: BatchRange[];
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
  /** Encoding runs in batch order after each batch's compression. */
  #encoding: Promise<void> = Promise.resolve();
  #failure: unknown;
  #state: 'open' | 'committed' | 'aborted' = 'open';
  #fsync = true;
  #numRows = 0;
  #numBatches = 0;
  #queued = 0;
  #crc = 0;
  readonly #ranges: BatchRange[] = [];
  readonly #window: number;
  #inFlight = 0;
  #bytesInFlight = 0;
  readonly #maxBytesInFlight: number;
  #waiters: (() => void)[] = [];
  /** The precompressed body of the batch being encoded now. */
  #ready: { batch: RecordBatch; assembled: Assembled } | undefined;

  private constructor(
    file: string,
    tempPath: string,
    handle: FileHandle,
    schema: Schema,
    compression: Compression,
    format: ArrowFormat,
    window: number,
    maxBytesInFlight: number,
  ) {
    this.path = file;
    this.tempPath = tempPath;
    this.#handle = handle;
    this.schema = schema;
    this.compression = compression;
    this.format = format;
    const compressionType = toCompressionType(compression);
    this.#writer =
      format === 'file'
        ? new RecordBatchFileWriter({ compressionType })
        : new RecordBatchStreamWriter({ compressionType });
    // Swap apache-arrow's in-memory queue for a collector we drain after each synchronous write.
    this.#sink = collector();
    (this.#writer as unknown as { _sink: ByteCollector })._sink = this.#sink;
    this.#writer.reset(this.#sink as never, schema);
    this.#window = window;
    this.#maxBytesInFlight = maxBytesInFlight;
    // Hand apache-arrow the body we compressed asynchronously; a dictionary batch's buffers are
    // stored uncompressed (apache-arrow's own compression of them is unreadable: assembleStored)
    const internals = this.#writer as unknown as { _assembleRecordBatch: AssembleFn };
    const original = internals._assembleRecordBatch.bind(this.#writer);
    internals._assembleRecordBatch = (input) => {
      if (this.#ready !== undefined && input === this.#ready.batch) return this.#ready.assembled;
      return compressionType === null ? original(input) : assembleStored(input);
    };
  }

  /**
   * Opens `<dir>/.<name>.<random>.tmp` for writing. Validates options synchronously (throws
   * ValidationError), then throws {@link IoError} when the file cannot be created.
   */
  static async open(file: string, options: ArrowFileWriterOptions): Promise<ArrowFileWriter> {
    const compression = expectOneOf(
      options.compression ?? 'none',
      'options.compression',
      ['lz4', 'zstd', 'none'],
      'none',
    );
    const format = expectOneOf(options.format, 'options.format', ['file', 'stream'], 'file');
    const window = expectInteger(options.window, 'options.window', compression === 'none' ? 2 : 4, 1, 1024);
    registerArrowCodecs();
    // named with this process's pid; the directory's stale temporary files go first (lib/temp-files.ts)
    const tempPath = await newTempPath(file);
    let handle: FileHandle;
    try {
      handle = await open(tempPath, 'wx', options.mode ?? 0o644);
    } catch (error) {
      await forgetTempFile(tempPath);
      throw new IoError(`Cannot create Arrow file: ${(error as Error).message}`, { file }, { cause: error });
    }
    const maxBytes = options.maxBytesInFlight === undefined ? Infinity : options.maxBytesInFlight;
    if (!(maxBytes > 0)) {
      await handle.close().catch(() => {});
      await unlink(tempPath).catch(() => {});
      throw new IoError(
        `Expected \`options.maxBytesInFlight\` to be a positive number, got ${String(options.maxBytesInFlight)}`,
        { file },
      );
    }
    const writer = new ArrowFileWriter(
      file,
      tempPath,
      handle,
      options.schema,
      compression === 'none' ? null : compression,
      format,
      window,
      maxBytes,
    );
    writer.#fsync = options.fsync !== false;
    writer.#flush();
    return writer;
  }

  /** Bytes written to disk so far (awaited writes only). */
  get bytesWritten(): number {
    return this.#position;
  }

  /**
   * Bytes this writer holds for batches accepted but not yet on disk: their uncompressed size
   * (the batch is referenced until written) plus the encoded copy once made.
   */
  get bytesInFlight(): number {
    return this.#bytesInFlight;
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

  /** CRC-32 of the bytes written so far (the whole file once committed). */
  get crc32(): number {
    return this.#crc;
  }

  /** Byte range and CRC-32 of each batch encoded so far. */
  get batchRanges(): readonly BatchRange[] {
    return this.#ranges;
  }

  /** Moves what apache-arrow encoded into a chained disk write; `isBatch` records its range. */
  #flush(isBatch = false): Promise<void> {
    const chunks = this.#sink.chunks;
    const bytes = this.#sink.bytes;
    this.#sink.chunks = [];
    this.#sink.bytes = 0;
    const previous = this.#pending;
    // checksums are computed here, in file order, while the bytes are still in memory
    let crc = 0;
    for (const chunk of chunks) crc = crc32(chunk, crc);
    // the file's CRC from the part's, not a second pass over the bytes
    this.#crc = crc32Combine(this.#crc, crc, bytes);
    if (isBatch) this.#ranges.push({ offset: this.#queued, length: bytes, crc32: crc });
    this.#queued += bytes;
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
      if (left > 0)
        buffers = [
          Buffer.concat(buffers.map((b) => Buffer.from(b.buffer, b.byteOffset, b.byteLength))).subarray(bytes - left),
        ];
    }
  }

  #throwIfFailed(): void {
    if (this.#failure !== undefined) {
      const error = this.#failure;
      throw error instanceof SpillwayError
        ? error
        : new IoError(`Writing Arrow file failed: ${(error as Error).message}`, { file: this.path }, { cause: error });
    }
  }

  /**
   * Accepts `batch`: it is compressed (LZ4: off the main thread), encoded and written after the
   * previous one, in order. Resolves once fewer than `window` batches are in flight. Throws
   * {@link SchemaMismatchError} when the schema differs (nothing is written), {@link IoError}
   * when an earlier write failed. The caller must not mutate the batch's buffers afterwards.
   */
  async write(input: RecordBatch): Promise<void> {
    if (this.#state !== 'open') throw new IoError(`Arrow writer is already ${this.#state}`, { file: this.path });
    this.#throwIfFailed();
    const batch = rebaseViews(input);
    if (!this.schemaMatches(batch)) {
      throw new SchemaMismatchError(
        `Batch schema differs from the file's schema (${describe(batch.schema)} vs ${describe(this.schema)}); start a new file or conform the batch`,
        { file: this.path, batch: this.#numBatches },
      );
    }
    this.#numRows += batch.numRows;
    this.#numBatches++;
    this.#inFlight++;
    let held = recordBatchBytes(batch);
    this.#bytesInFlight += held;
    const compressing =
      this.compression === 'lz4'
        ? assembleCompressed(batch, lz4Frame)
        : this.compression === 'zstd'
          ? assembleCompressed(batch, zstdOffThread)
          : undefined;
    compressing?.catch(() => {}); // observed below, in order
    const encoded = this.#encoding.then(async () => {
      const assembled = compressing ? await compressing : undefined;
      if (this.#failure !== undefined) return;
      this.#ready = assembled ? { batch, assembled } : undefined;
      try {
        this.#writer.write(batch);
      } catch (error) {
        throw this.#dictionaryReplaced(error);
      } finally {
        this.#ready = undefined;
      }
      if (this.#sink.closed) throw new IoError('apache-arrow closed the writer unexpectedly', { file: this.path });
      const encodedBytes = this.#sink.bytes;
      held += encodedBytes;
      this.#bytesInFlight += encodedBytes;
      this.#flush(true);
      // wrapped so the next batch encodes while this one is written
      return { written: this.#pending };
    });
    this.#encoding = encoded.then(
      (result) => {
        if (result === undefined) this.#release(held);
        else void result.written.then(() => this.#release(held));
      },
      (error: unknown) => {
        this.#failure ??= error;
        this.#release(held);
      },
    );
    while (
      (this.#inFlight >= this.#window || (this.#inFlight > 0 && this.#bytesInFlight >= this.#maxBytesInFlight)) &&
      this.#failure === undefined
    ) {
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
    }
    this.#throwIfFailed();
  }

  /** apache-arrow's refusal of a dictionary that changes in the file format, as a coded error that says what to do. */
  #dictionaryReplaced(error: unknown): unknown {
    if (!/replacement dictionaries/.test(String((error as Error)?.message))) return error;
    const columns = this.schema.fields.filter((f) => DataType.isDictionary(f.type)).map((f) => `\`${f.name}\``);
    return new UnsupportedError(
      `A dictionary column (${columns.join(', ')}) changes its dictionary between batches (the files of a dataset, or an Arrow stream that replaces it): the Arrow file format holds one dictionary per column. Write the Arrow stream format (toArrow's \`format: 'stream'\`) or Parquet`,
      { file: this.path, batch: this.#numBatches },
      { cause: error },
    );
  }

  #release(bytes: number): void {
    this.#inFlight--;
    this.#bytesInFlight -= bytes;
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
  }

  /** Waits until every accepted batch is on disk (not fsynced). */
  async drain(): Promise<void> {
    await this.#encoding;
    await this.#pending;
    this.#throwIfFailed();
  }

  /** Writes the end-of-stream marker (and footer), fsyncs (unless opened with `fsync: false`), closes and renames to {@link path}. */
  async commit(): Promise<ArrowFileCommit> {
    if (this.#state !== 'open') throw new IoError(`Arrow writer is already ${this.#state}`, { file: this.path });
    try {
      await this.#encoding;
      this.#throwIfFailed();
      this.#writer.finish();
      this.#flush();
      await this.#pending;
      this.#throwIfFailed();
      if (this.#fsync) await this.#handle.sync();
      await this.#handle.close();
      await rename(this.tempPath, this.path);
      await forgetTempFile(this.tempPath);
      this.#state = 'committed';
    } catch (error) {
      await this.abort().catch(() => {});
      throw error instanceof SpillwayError
        ? error
        : new IoError(
            `Committing Arrow file failed: ${(error as Error).message}`,
            { file: this.path },
            { cause: error },
          );
    }
    debug('committed %s: %d batches, %d rows, %d bytes', this.path, this.#numBatches, this.#numRows, this.#position);
    return {
      path: this.path,
      bytes: this.#position,
      numRows: this.#numRows,
      numBatches: this.#numBatches,
      crc32: this.#crc,
      batchRanges: [...this.#ranges],
    };
  }

  /** Stops writing and deletes the temporary file. Idempotent; no-op after commit. */
  async abort(): Promise<void> {
    if (this.#state !== 'open') return;
    this.#state = 'aborted';
    this.#failure ??= new IoError('Arrow writer was aborted', { file: this.path });
    await this.#encoding;
    await this.#pending;
    await this.#handle.close().catch(() => {});
    await unlink(this.tempPath).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT')
        throw new IoError(
          `Cannot remove temporary Arrow file: ${error.message}`,
          { file: this.tempPath },
          { cause: error },
        );
    });
    await forgetTempFile(this.tempPath);
  }
}

function describe(schema: Schema): string {
  const text = schema.fields.map((f) => `${f.name}: ${String(f.type)}`).join(', ');
  return `{${text.length > 120 ? `${text.slice(0, 117)}...` : text}}`;
}
