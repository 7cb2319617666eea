/**
 * The one place an operator's spill files live: a private scratch directory (0700, created on
 * first use under the system temp dir or a given parent; spill files 0600, the spill writer's
 * mode), removed on dispose (success, failure, abort) and, failing that, at process exit via
 * lib/formats/spill/cleanup. Its `.owner` names this process, so after a kill the next run that
 * makes a scratch directory under the same parent removes it (lib/io/temp-files.ts). Every
 * operator spills through it: a hash operator's partition sets (hash-partitions.ts) and a sort's
 * runs (spill-runs.ts) are subdirectories, and the scratch keeps the counters every operator
 * reports in its stats.
 */
import { mkdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { SpillError } from '../core/errors.ts';
import { forgetOnExit, removeOnExit } from '../formats/spill/cleanup.ts';
import { createScratchDir } from '../io/temp-files.ts';

/**
 * How an operator's spill files are compressed: not at all. They are read once, then deleted, on
 * the machine that wrote them, where lz4 (lz4-napi, 145-390 MB/s a call) cost more than the
 * bytes it saved: side by side, `fromCsv -> sort(['price', 'ts']) -> toParquet` over 1M rows took
 * 3.4-3.8 s against 4.5-5.0 s with lz4 (peak 180-192 against 207-210 MB), and a 5M x 2.5M join
 * 19.5-21.2 s against 24.9-26.5 s, for about twice the bytes on disk. DataFusion's spills are
 * uncompressed by default too. The files keep their checksums; a spill sink's files, which are
 * kept and replayed, stay compressed (lib/formats/spill/settings.ts).
 */
export const SCRATCH_COMPRESSION = 'none';

/** One operator's scratch directory and its spill counters. */
export class OperatorScratch {
  readonly #parent: string | undefined;
  readonly #stage: string;
  #dir: Promise<string> | undefined;
  #subdirs = 0;
  #disposed = false;
  /** Bytes written to disk by everything under this scratch. */
  bytesSpilled = 0;
  /** Hash partitions that received at least one record. */
  partitionsSpilled = 0;
  /** Sorted runs written (merge passes included). */
  runsSpilled = 0;

  /**
   * @param stage the operator's stage name (for error messages)
   * @param parent where to create the scratch directory (default: the system temp dir)
   */
  constructor(stage: string, parent?: string) {
    this.#stage = stage;
    this.#parent = parent;
  }

  /** The stage name given at construction. */
  get stage(): string {
    return this.#stage;
  }

  /** The scratch directory, created 0700 on first call. Throws {@link SpillError}. */
  dir(): Promise<string> {
    if (this.#disposed)
      return Promise.reject(new SpillError("The operator's scratch directory is disposed", { stage: this.#stage }));
    this.#dir ??= (async () => {
      const parent = this.#parent ?? os.tmpdir();
      try {
        await mkdir(parent, { recursive: true, mode: 0o700 });
        // what killed runs left under the parent goes first; this one names its owner
        const dir = await createScratchDir(parent, 'spillway-op-');
        removeOnExit(dir);
        return dir;
      } catch (error) {
        throw new SpillError(
          `Cannot create an operator spill directory under ${parent}: ${(error as Error).message}`,
          { stage: this.#stage, dir: parent },
          { cause: error },
        );
      }
    })();
    return this.#dir;
  }

  /** A new 0700 subdirectory `<prefix>-<n>` of the scratch directory. Throws {@link SpillError}. */
  async subdir(prefix: string): Promise<string> {
    const root = await this.dir();
    const dir = path.join(root, `${prefix}-${++this.#subdirs}`);
    try {
      await mkdir(dir, { mode: 0o700 });
    } catch (error) {
      throw new SpillError(
        `Cannot create a spill directory: ${(error as Error).message}`,
        { stage: this.#stage, dir },
        { cause: error },
      );
    }
    return dir;
  }

  /** True once a scratch directory was created. */
  get used(): boolean {
    return this.#dir !== undefined;
  }

  /** Removes the scratch directory and everything in it; idempotent. */
  async dispose(): Promise<void> {
    this.#disposed = true;
    const pending = this.#dir;
    this.#dir = undefined;
    if (!pending) return;
    let dir: string;
    try {
      dir = await pending;
    } catch {
      return;
    }
    try {
      // a partition or run file still being written when an abort came can refill the directory
      // under rm (ENOTEMPTY): rm retries those, and what still fails is left to the exit cleanup
      await rm(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 20 });
    } catch {
      return;
    }
    forgetOnExit(dir);
  }
}
