/**
 * A file written under a temporary name in its final directory and renamed into place only on
 * commit, so a reader never sees a half-written file under the final name.
 */
import { open, rename, truncate, unlink, type FileHandle } from 'node:fs/promises';
import { renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { nodeCrypto } from '../core/crypto.ts';
import { IoError } from '../core/errors.ts';
import type { CommitPoint } from './commit-point.ts';
import { forgetTempFile, newTempPath, trackTempFile } from './temp-files.ts';

/** Options of {@link AtomicFile.open}. */
export interface AtomicFileOptions {
  /** File mode of the final file (default 0o644, less the umask). */
  mode?: number;
  /** Stage name for error messages. */
  stage?: string;
}

/** A file being written under a temporary name; see {@link AtomicFile.open}. */
export class AtomicFile {
  /** Where the file goes on commit. */
  readonly path: string;
  /** Where it is written until then. */
  readonly tempPath: string;
  readonly #handle: FileHandle;
  readonly #stage: string | undefined;
  #bytesWritten = 0;
  #closed = false;

  private constructor(path: string, tempPath: string, handle: FileHandle, stage: string | undefined) {
    this.path = path;
    this.tempPath = tempPath;
    this.#handle = handle;
    this.#stage = stage;
  }

  /**
   * Creates the temporary file next to `path` (same directory, so the rename is atomic), named
   * with this process's pid; the first file in a directory also removes what dead processes left
   * there (lib/temp-files.ts).
   */
  static async open(path: string, options: AtomicFileOptions = {}): Promise<AtomicFile> {
    const tempPath = await newTempPath(path);
    try {
      const handle = await open(tempPath, 'wx', options.mode ?? 0o644);
      return new AtomicFile(path, tempPath, handle, options.stage);
    } catch (error) {
      await forgetTempFile(tempPath);
      throw new IoError(
        `Cannot create ${path}: ${(error as Error).message}`,
        { stage: options.stage, file: path },
        { cause: error },
      );
    }
  }

  /**
   * Reopens the temporary file of an earlier, interrupted run (checkpoint resume): cuts it back to
   * `length` (what that run had committed) and appends from there.
   * @throws IoError when the file is missing or shorter than `length`
   */
  static async resume(
    path: string,
    tempPath: string,
    length: number,
    options: AtomicFileOptions = {},
  ): Promise<AtomicFile> {
    try {
      const handle = await open(tempPath, 'r+');
      try {
        const { size } = await handle.stat();
        if (size < length) throw new Error(`it holds ${size} bytes, fewer than the ${length} committed`);
      } finally {
        await handle.close();
      }
      await truncate(tempPath, length);
      const file = new AtomicFile(path, tempPath, await open(tempPath, 'a'), options.stage);
      file.#bytesWritten = length;
      trackTempFile(tempPath);
      return file;
    } catch (error) {
      throw new IoError(
        `Cannot resume ${path} from ${tempPath}: ${(error as Error).message}`,
        { stage: options.stage, file: tempPath },
        { cause: error },
      );
    }
  }

  /** Flushes what was written to disk (fsync), keeping the file open. */
  async sync(): Promise<void> {
    try {
      await this.#handle.sync();
    } catch (error) {
      throw new IoError(
        `Cannot flush ${this.path}: ${(error as Error).message}`,
        { stage: this.#stage, file: this.path },
        { cause: error },
      );
    }
  }

  /** Closes the temporary file and leaves it in place (a checkpoint refers to it); idempotent. */
  async release(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#handle.close().catch(() => undefined);
  }

  /** Bytes written so far. */
  get bytesWritten(): number {
    return this.#bytesWritten;
  }

  /** Appends `data`; resolves when the bytes are handed to the OS. */
  async write(data: Uint8Array | string): Promise<void> {
    const buffer = typeof data === 'string' ? Buffer.from(data) : data;
    try {
      let offset = 0;
      while (offset < buffer.byteLength) {
        const { bytesWritten } = await this.#handle.write(buffer, offset, buffer.byteLength - offset);
        offset += bytesWritten;
      }
      this.#bytesWritten += buffer.byteLength;
    } catch (error) {
      throw new IoError(
        `Cannot write ${this.path}: ${(error as Error).message}`,
        { stage: this.#stage, file: this.path, byteOffset: this.#bytesWritten },
        { cause: error },
      );
    }
  }

  /**
   * Flushes to disk, closes and renames into place. A sink's output passes the sink's
   * `point` just before the rename (an aborted sink's file is not renamed).
   */
  async commit(options: { point?: CommitPoint } = {}): Promise<void> {
    try {
      await this.#handle.sync();
      this.#closed = true;
      await this.#handle.close();
      options.point?.enter(this.path);
      await rename(this.tempPath, this.path);
      await forgetTempFile(this.tempPath);
    } catch (error) {
      await this.abort();
      throw new IoError(
        `Cannot commit ${this.path}: ${(error as Error).message}`,
        { stage: this.#stage, file: this.path },
        { cause: error },
      );
    }
  }

  /** Closes and removes the temporary file; idempotent. */
  async abort(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      await this.#handle.close().catch(() => undefined);
    }
    await unlink(this.tempPath).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT') throw error;
    });
    await forgetTempFile(this.tempPath);
  }
}

/**
 * Writes a whole small file atomically: a temporary file beside it, fsync, rename, then an fsync
 * of the directory so the rename itself survives a crash. For manifests and checkpoints.
 */
export async function writeFileAtomic(
  path: string,
  data: string | Uint8Array,
  options: AtomicFileOptions = {},
): Promise<void> {
  const file = await AtomicFile.open(path, options);
  try {
    await file.write(data);
  } catch (error) {
    await file.abort();
    throw error;
  }
  await file.commit();
  const dir = await open(dirname(path), 'r');
  try {
    await dir.sync();
  } catch {
    // some file systems refuse fsync on a directory; the rename is still atomic
  } finally {
    await dir.close();
  }
}

/**
 * {@link writeFileAtomic} without fsync, synchronously: for reports written from exit handlers,
 * where nothing asynchronous runs any more.
 */
export function writeFileAtomicSync(path: string, data: string): void {
  const tempPath = join(
    dirname(path),
    `.${basename(path)}.${process.pid}-${nodeCrypto().randomBytes(4).toString('hex')}.tmp`,
  );
  try {
    writeFileSync(tempPath, data);
    renameSync(tempPath, path);
  } catch (error) {
    rmSync(tempPath, { force: true });
    throw error;
  }
}
