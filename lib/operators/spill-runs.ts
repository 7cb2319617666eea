/**
 * Sorted runs on disk, for the sort operator: each run is a sequence of Arrow RecordBatches
 * written once through the spill layer ({@link SpillWriter}: Arrow IPC, CRC-32
 * per batch), read back batch by batch ({@link SpillFiles}: verified reads), and removed once
 * merged. A run is a subdirectory of the operator's scratch directory (operator-scratch.ts), as
 * a hash operator's partition set is, so the scratch's dispose removes whatever is left.
 *
 * A run's file is open only while the run is merged: {@link SpilledRun.release} (called by the
 * merge when the run is exhausted, and by remove) closes it, so a merge of many runs does not
 * hold a descriptor per finished run until it ends.
 */
import { rm } from 'node:fs/promises';
import type { RecordBatch } from 'apache-arrow';
import { SpillWriter } from '../formats/spill/writer.ts';
import { SpillFiles } from '../formats/spill/reader.ts';
import { SCRATCH_COMPRESSION, type OperatorScratch } from './operator-scratch.ts';

/** Runs hold one file each (rotation would only add descriptors to a merge). */
const RUN_FILE_SIZE = 2 ** 40;

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
  #removed = false;

  /** Made by {@link RunWriter.finish}. */
  constructor(dir: string, files: SpillFiles) {
    this.dir = dir;
    this.#files = files;
    this.numRows = files.manifest.numRows;
    this.numBatches = files.numBatches;
    this.bytes = files.manifest.bytesOnDisk;
  }

  /** Reads batch `index` (the file's checksums are verified on its first read). */
  read(index: number): Promise<RecordBatch> {
    return this.#files.read(index);
  }

  /** Closes the run's files once it has been read to its end (no read after this). */
  release(): Promise<void> {
    return this.#files.close();
  }

  /** Closes the run's files and deletes them; idempotent. */
  async remove(): Promise<void> {
    if (this.#removed) return;
    this.#removed = true;
    await this.#files.close();
    await rm(this.dir, { recursive: true, force: true });
  }
}

/** Writes one run; {@link RunWriter.finish} makes it readable. */
export class RunWriter {
  readonly dir: string;
  readonly #writer: SpillWriter;
  readonly #scratch: OperatorScratch;

  /** Use {@link openRun}. */
  constructor(scratch: OperatorScratch, dir: string) {
    this.#scratch = scratch;
    this.dir = dir;
    this.#writer = new SpillWriter(dir, { compression: SCRATCH_COMPRESSION, fileSize: RUN_FILE_SIZE, durable: false });
  }

  /** Appends a batch; resolves when the writer has room for the next. Throws SpillError. */
  write(batch: RecordBatch): Promise<void> {
    return this.#writer.write(batch, 'a');
  }

  /** Commits the run (fsync, sealed manifest) and opens it for reading; counts it in the scratch. */
  async finish(): Promise<SpilledRun> {
    const manifest = await this.#writer.finish(0);
    const run = new SpilledRun(this.dir, new SpillFiles(this.dir, manifest, 1));
    this.#scratch.runsSpilled++;
    this.#scratch.bytesSpilled += run.bytes;
    return run;
  }

  /** Drops the run: the open file is removed, then the run's directory. */
  async abort(): Promise<void> {
    await this.#writer.abort().catch(() => {});
    await rm(this.dir, { recursive: true, force: true });
  }
}

/** Starts a new run in its own subdirectory of `scratch`. Throws SpillError. */
export async function openRun(scratch: OperatorScratch): Promise<RunWriter> {
  return new RunWriter(scratch, await scratch.subdir('run'));
}
