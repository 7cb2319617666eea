/**
 * Writes spilled record batches to a spill directory: Arrow IPC files (one schema per file),
 * rotated at a size, each written under a temporary name, fsynced and renamed, and the manifest
 * rewritten atomically after each file. A batch whose schema differs from the open file's is
 * conformed when the file's schema already holds it (a missing column, an int in a float
 * column), and otherwise starts a new file with the widened schema, or with its own schema when
 * the two cannot widen (a new segment). Any failure is a {@link SpillError} naming the directory;
 * the files already in the manifest stay intact.
 */
import type { RecordBatch, Schema } from 'apache-arrow';
import { ArrowFileWriter } from '../arrow/ipc-writer.ts';
import { exemptDirectory } from '../../io/temp-files.ts';
import { castRecordBatch, recordBatchBytes, schemasEqual, unifySchemas } from '../arrow/convert.ts';
import { SpillError, SpillwayError, ValidationError } from '../../core/errors.ts';
import { logger } from '../../core/stage.ts';
import { crcHex } from '../checksum.ts';
import {
  decodeSchema,
  emptyManifest,
  encodeSchema,
  writeManifest,
  type SpillFileEntry,
  type SpillManifest,
} from './manifest.ts';

const debug = logger('spill');

/** Options of {@link SpillWriter}. */
export interface SpillWriterOptions {
  compression: 'lz4' | 'zstd' | 'none';
  /** Rotate to a new file once one reaches this many bytes. */
  fileSize: number;
  /** Batches in flight inside the Arrow writer (see ArrowFileWriter's `window`). */
  window?: number;
  /** Bytes in flight inside the Arrow writer (see ArrowFileWriter's `maxBytesInFlight`). */
  maxBytesInFlight?: number;
  /**
   * Whether files are fsynced before their rename and the manifest is written to the directory
   * (default true). An operator's scratch partitions and runs pass false: they are worthless after
   * a crash (the next run sweeps them) and read back through {@link SpillWriter.manifest} in
   * memory. 540 small partitions of a tiny-budget join spent 12 of 13 s waiting on fsyncs, and
   * then 7 s on the manifest's four atomic writes a partition (about 20 file operations).
   */
  durable?: boolean;
}

interface OpenFile {
  writer: ArrowFileWriter;
  name: string;
  segment: number;
  schema: Schema;
  rawBytes: number;
  batchRows: number[];
  origins: string;
}

/** Appends record batches to a spill directory, in order. */
export class SpillWriter {
  /** The spill directory. */
  readonly dir: string;
  /** The manifest as last written (files committed so far). */
  readonly manifest: SpillManifest;
  readonly #options: SpillWriterOptions;
  #file: OpenFile | undefined;
  #fileCount = 0;
  #failure: SpillError | undefined;
  #closed = false;
  /** Schemas of the segments, decoded (the manifest holds them encoded). */
  readonly schemas: Schema[] = [];

  /** @param manifest files committed by an earlier run, to append to (checkpoint resume) */
  constructor(dir: string, options: SpillWriterOptions, manifest?: SpillManifest) {
    if (!(options.fileSize > 0)) throw new ValidationError('Expected `options.fileSize` to be a positive byte size');
    this.dir = dir;
    // the directory's own owner file covers its temporary files: no lock or sweep inside it
    exemptDirectory(dir);
    this.#options = options;
    this.manifest = manifest ?? emptyManifest(options.compression);
    if (manifest) {
      for (const segment of manifest.segments) this.schemas.push(decodeSchema(segment, dir));
      this.#fileCount = manifest.files.length;
    }
  }

  /** Commits the open file (fsync, rename, manifest), so every batch accepted so far is on disk (checkpoints). */
  async commitOpenFile(): Promise<void> {
    if (this.#failure) throw this.#failure;
    try {
      await this.#commitFile();
    } catch (error) {
      throw this.#fail(error, 'committing a file');
    }
  }

  /** Bytes on disk: committed files plus what the open file has written. */
  get bytesOnDisk(): number {
    return this.manifest.bytesOnDisk + (this.#file?.writer.bytesWritten ?? 0);
  }

  /** Bytes the open file's writer holds for batches not yet on disk (a budget counts them). */
  get bytesInFlight(): number {
    return this.#file?.writer.bytesInFlight ?? 0;
  }

  /** Rows accepted (committed or in the open file). */
  get numRows(): number {
    return this.manifest.numRows + (this.#file?.writer.numRows ?? 0);
  }

  /** Batches accepted (committed or in the open file). */
  get numBatches(): number {
    return this.manifest.numBatches + (this.#file?.writer.numBatches ?? 0);
  }

  #fail(error: unknown, what: string): SpillError {
    if (error instanceof SpillError) return error;
    const message = error instanceof Error ? error.message : String(error);
    const file = error instanceof SpillwayError ? error.context.file : undefined;
    this.#failure ??= new SpillError(
      `Spilling to ${this.dir} failed while ${what}: ${message}`,
      { dir: this.dir, file },
      { cause: error },
    );
    return this.#failure;
  }

  /** The schema `batch` will be written with: the open file's, a widened one, or its own. */
  #plan(batch: RecordBatch): { schema: Schema; newFile: boolean } {
    const file = this.#file;
    if (!file) {
      const last = this.schemas.at(-1);
      // widened from the last file's schema, as with a file open: the batch's own schema (after a
      // checkpoint's commit, a resume or a rotation) dropped the columns it lacked and reordered
      // the rest, so the replay differed with where the files were cut
      if (last) {
        try {
          const unified = unifySchemas(last, batch.schema);
          return { schema: schemasEqual(unified, last) ? last : unified, newFile: true };
        } catch {
          // a new segment below
        }
      }
      return { schema: batch.schema, newFile: true };
    }
    if (schemasEqual(file.schema, batch.schema)) return { schema: file.schema, newFile: false };
    try {
      const unified = unifySchemas(file.schema, batch.schema);
      return schemasEqual(unified, file.schema)
        ? { schema: file.schema, newFile: false }
        : { schema: unified, newFile: true };
    } catch {
      return { schema: batch.schema, newFile: true };
    }
  }

  /**
   * Appends `batch` (origin `r` when it came from rows, `a` from Arrow). Resolves when the Arrow
   * writer has room for more; throws {@link SpillError}.
   */
  async write(batch: RecordBatch, origin: 'r' | 'a'): Promise<void> {
    if (this.#failure) throw this.#failure;
    if (this.#closed) throw new SpillError('The spill writer is closed', { dir: this.dir });
    let { schema, newFile } = this.#plan(batch);
    let conformed = batch;
    if (!schemasEqual(batch.schema, schema)) {
      try {
        conformed = castRecordBatch(batch, schema);
      } catch {
        // a column the widened schema cannot rebuild (an Int8, a dictionary, ...): a segment of
        // its own, as for schemas that do not unify, where the batch failed the spill before
        schema = batch.schema;
        newFile = true;
      }
    }
    try {
      if (newFile) {
        await this.#commitFile();
        await this.#openFile(schema);
      }
      const file = this.#file!;
      file.rawBytes += recordBatchBytes(conformed);
      file.batchRows.push(conformed.numRows);
      file.origins += origin;
      await file.writer.write(conformed);
      if (file.writer.bytesWritten >= this.#options.fileSize) await this.#commitFile();
    } catch (error) {
      throw this.#fail(error, 'writing a batch');
    }
  }

  async #openFile(schema: Schema): Promise<void> {
    let segment = this.schemas.length - 1;
    const last = this.schemas[segment];
    if (!last || !schemasEqual(last, schema)) {
      this.schemas.push(schema);
      this.manifest.segments.push(encodeSchema(schema));
      segment = this.schemas.length - 1;
    }
    const name = `spill-${String(++this.#fileCount).padStart(6, '0')}.arrow`;
    const writer = await ArrowFileWriter.open(`${this.dir}/${name}`, {
      schema,
      compression: this.#options.compression,
      mode: 0o600,
      window: this.#options.window,
      maxBytesInFlight: this.#options.maxBytesInFlight,
      fsync: this.#options.durable !== false,
    });
    this.#file = { writer, name, segment, schema, rawBytes: 0, batchRows: [], origins: '' };
  }

  async #commitFile(): Promise<void> {
    const file = this.#file;
    if (!file) return;
    this.#file = undefined;
    const done = await file.writer.commit();
    const entry: SpillFileEntry = {
      name: file.name,
      segment: file.segment,
      rows: done.numRows,
      batches: done.numBatches,
      bytes: done.bytes,
      rawBytes: file.rawBytes,
      crc32: crcHex(done.crc32),
      batchRows: file.batchRows,
      batchRanges: done.batchRanges.map((r) => [r.offset, r.length, crcHex(r.crc32)]),
      origins: file.origins,
    };
    const m = this.manifest;
    m.files.push(entry);
    m.numRows += entry.rows;
    m.numBatches += entry.batches;
    m.bytesOnDisk += entry.bytes;
    if (this.#options.durable !== false) await writeManifest(this.dir, m);
    debug('committed %s: %d batches, %d rows, %d bytes', file.name, entry.batches, entry.rows, entry.bytes);
  }

  /**
   * Commits the open file and writes the final manifest. `rowsInMemory` is what the caller keeps
   * in memory (the manifest is `complete` when it is 0).
   */
  async finish(rowsInMemory: number): Promise<SpillManifest> {
    if (this.#failure) throw this.#failure;
    try {
      await this.#commitFile();
      this.manifest.complete = rowsInMemory === 0;
      this.manifest.rowsInMemory = rowsInMemory;
      if (this.#options.durable !== false) await writeManifest(this.dir, this.manifest);
    } catch (error) {
      throw this.#fail(error, 'finishing');
    }
    this.#closed = true;
    return this.manifest;
  }

  /** Stops: the open file's temporary file is removed; committed files and the manifest stay. */
  async abort(): Promise<void> {
    this.#closed = true;
    const file = this.#file;
    this.#file = undefined;
    await file?.writer.abort().catch(() => {});
  }
}
