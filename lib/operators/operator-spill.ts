/**
 * A temporary store of spilled runs for operators (sort runs, hash partitions): each run is a
 * sequence of Arrow RecordBatches written once, read back batch by batch, and removed when no
 * longer needed. It sits on the spill layer (`SpillWriter`: compressed Arrow IPC, fsync, CRC-32
 * per batch; `SpillFiles`: verified reads), one spill directory per run, all under one private
 * temporary directory (mode 0700, files 0600) that is removed on dispose (success, failure,
 * abort) and, failing that, when the process exits.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { RecordBatch } from 'apache-arrow';
import { SpillError } from '../core/errors.ts';
import { SpillWriter } from '../formats/spill/writer.ts';
import { SpillFiles } from '../formats/spill/reader.ts';
import { forgetOnExit, removeOnExit } from '../formats/spill/cleanup.ts';

/** Options of {@link OperatorSpillStore.open}. */
export interface OperatorSpillOptions {
  /** Parent of the temporary directory (default `os.tmpdir()`). */
  tmpDir?: string;
  /** Names the temporary directory: `spillway-<prefix>-XXXXXX` (default `op`). */
  prefix?: string;
  /** Body compression of the run files (default `lz4`). */
  compression?: 'lz4' | 'zstd' | 'none';
}

/** A run on disk: its batches in the order written. */
export class SpilledRun {
  /** The run's spill directory. */
  readonly dir: string;
  /** Rows in the run. */
  readonly numRows: number;
  /** Batches in the run. */
  readonly numBatches: number;
  /** Compressed bytes on disk. */
  readonly bytes: number;
  readonly #files: SpillFiles;

  /** @internal made by {@link RunWriter.finish} */
  constructor(dir: string, files: SpillFiles) {
    this.dir = dir;
    this.#files = files;
    this.numRows = files.manifest.numRows;
    this.numBatches = files.numBatches;
    this.bytes = files.manifest.bytesOnDisk;
  }

  /** Reads batch `index` (checksums verified on the first read of each file). */
  read(index: number): Promise<RecordBatch> {
    return this.#files.read(index);
  }

  /** The run's batches in order, one in memory at a time. */
  async *batches(): AsyncGenerator<RecordBatch> {
    for (let i = 0; i < this.numBatches; i++) yield await this.#files.read(i);
  }

  /** Closes the run's files and deletes them. */
  async remove(): Promise<void> {
    await this.#files.close();
    await rm(this.dir, { recursive: true, force: true });
  }
}

/** Writes one run; {@link RunWriter.finish} makes it readable. */
export class RunWriter {
  readonly #writer: SpillWriter;
  readonly dir: string;

  /** @internal made by {@link OperatorSpillStore.createRun} */
  constructor(dir: string, writer: SpillWriter) {
    this.dir = dir;
    this.#writer = writer;
  }

  /** Appends a batch; resolves when the writer has room for the next. Throws {@link SpillError}. */
  write(batch: RecordBatch): Promise<void> {
    return this.#writer.write(batch, 'a');
  }

  /** Compressed bytes written so far. */
  get bytes(): number {
    return this.#writer.bytesOnDisk;
  }

  /** Commits the run (fsync, manifest) and opens it for reading. */
  async finish(): Promise<SpilledRun> {
    const manifest = await this.#writer.finish(0);
    return new SpilledRun(this.dir, new SpillFiles(this.dir, manifest, 2));
  }

  /** Drops the run: the open file is removed, then the run's directory. */
  async abort(): Promise<void> {
    await this.#writer.abort();
    await rm(this.dir, { recursive: true, force: true });
  }
}

/** The temporary directory an operator spills its runs or partitions to. */
export class OperatorSpillStore {
  /** The private temporary directory (0700). */
  readonly dir: string;
  readonly #compression: 'lz4' | 'zstd' | 'none';
  #runs = 0;
  #disposed = false;

  private constructor(dir: string, compression: 'lz4' | 'zstd' | 'none') {
    this.dir = dir;
    this.#compression = compression;
  }

  /** Creates the temporary directory (0700) and registers it for removal at exit. Throws {@link SpillError}. */
  static async open(options: OperatorSpillOptions = {}): Promise<OperatorSpillStore> {
    const parent = options.tmpDir ?? os.tmpdir();
    let dir: string;
    try {
      dir = await mkdtemp(path.join(parent, `spillway-${options.prefix ?? 'op'}-`)); // mkdtemp makes it 0700
    } catch (error) {
      throw new SpillError(`Cannot create a temporary directory under ${parent}: ${(error as Error).message}`, { dir: parent }, { cause: error });
    }
    removeOnExit(dir);
    return new OperatorSpillStore(dir, options.compression ?? 'lz4');
  }

  /** Runs created so far. */
  get runsCreated(): number {
    return this.#runs;
  }

  /** Starts a new run in its own subdirectory. */
  async createRun(): Promise<RunWriter> {
    if (this.#disposed) throw new SpillError('The operator spill store is disposed', { dir: this.dir });
    const dir = path.join(this.dir, `run-${String(++this.#runs).padStart(6, '0')}`);
    try {
      await mkdir(dir, { mode: 0o700 });
    } catch (error) {
      throw new SpillError(`Cannot create a run directory: ${(error as Error).message}`, { dir }, { cause: error });
    }
    return new RunWriter(dir, new SpillWriter(dir, { compression: this.#compression, fileSize: 2 ** 40 }));
  }

  /** True once disposed. */
  get disposed(): boolean {
    return this.#disposed;
  }

  /** Removes the directory and everything in it. Idempotent. */
  async dispose(): Promise<void> {
    if (this.#disposed) return;
    this.#disposed = true;
    try {
      await rm(this.dir, { recursive: true, force: true });
    } finally {
      forgetOnExit(this.dir);
    }
  }
}
