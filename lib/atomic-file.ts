/**
 * A file written under a temporary name in its final directory and renamed into place only on
 * commit, so a reader never sees a half-written file under the final name.
 */
import { open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { IoError } from './errors.ts';

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

  /** Creates the temporary file next to `path` (same directory, so the rename is atomic). */
  static async open(path: string, options: AtomicFileOptions = {}): Promise<AtomicFile> {
    const tempPath = join(dirname(path), `.${basename(path)}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`);
    try {
      const handle = await open(tempPath, 'wx', options.mode ?? 0o644);
      return new AtomicFile(path, tempPath, handle, options.stage);
    } catch (error) {
      throw new IoError(`Cannot create ${path}: ${(error as Error).message}`, { stage: options.stage, file: path }, { cause: error });
    }
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
      throw new IoError(`Cannot write ${this.path}: ${(error as Error).message}`, { stage: this.#stage, file: this.path, byteOffset: this.#bytesWritten }, { cause: error });
    }
  }

  /** Flushes to disk, closes and renames into place. */
  async commit(options: { fsync?: boolean } = {}): Promise<void> {
    try {
      if (options.fsync !== false) await this.#handle.sync();
      this.#closed = true;
      await this.#handle.close();
      await rename(this.tempPath, this.path);
    } catch (error) {
      await this.abort();
      throw new IoError(`Cannot commit ${this.path}: ${(error as Error).message}`, { stage: this.#stage, file: this.path }, { cause: error });
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
  }
}
