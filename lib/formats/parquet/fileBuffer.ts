/**
 * A random-access view of a local file for hyparquet: positional reads through one open
 * `FileHandle`, so a reader fetches only the byte ranges it needs (footer, then one row group's
 * column chunks) instead of loading the file.
 */
import { open } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { FormatError, IoError } from '../../core/errors.ts';

/** The slice of hyparquet's `AsyncBuffer` contract we implement, plus `close()`. */
export interface FileBuffer {
  /** Size of the file in bytes. */
  readonly byteLength: number;
  /** Bytes read from the file so far (footer and pages; cache hits are not counted again). */
  readonly bytesRead: number;
  /** Reads bytes `[start, end)` (end defaults to the end of the file). */
  slice(start: number, end?: number): Promise<ArrayBuffer>;
  /** Closes the file handle. Idempotent. */
  close(): Promise<void>;
}

/** The footer is read a few times while parsing metadata; keep the tail of the file this big. */
const TAIL_CACHE_BYTES = 1 << 20;

/**
 * Opens `path` for positional reads.
 * @throws IoError when the file cannot be opened or read
 */
export async function openFileBuffer(path: string): Promise<FileBuffer> {
  let handle: FileHandle;
  let size: number;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    throw new IoError(`Cannot open Parquet file: ${(error as Error).message}`, { file: path }, { cause: error });
  }
  try {
    size = (await handle.stat()).size;
  } catch (error) {
    await handle.close().catch(() => undefined);
    throw new IoError(`Cannot stat Parquet file: ${(error as Error).message}`, { file: path }, { cause: error });
  }
  let tail: { start: number; bytes: Uint8Array } | undefined;
  let closed = false;
  let closing: Promise<void> | undefined;
  let bytesRead = 0;

  const readTotal = (n: number): void => {
    bytesRead += n;
  };

  async function readRange(start: number, end: number): Promise<ArrayBuffer> {
    const length = end - start;
    const bytes = new Uint8Array(length);
    let filled = 0;
    while (filled < length) {
      let bytesRead: number;
      try {
        ({ bytesRead } = await handle.read(bytes, filled, length - filled, start + filled));
      } catch (error) {
        throw new IoError(
          `Cannot read Parquet file: ${(error as Error).message}`,
          { file: path, byteOffset: start + filled },
          { cause: error },
        );
      }
      if (bytesRead === 0)
        throw new FormatError('Parquet file is truncated (read past its end)', {
          file: path,
          byteOffset: start + filled,
        });
      filled += bytesRead;
    }
    readTotal(length);
    return bytes.buffer;
  }

  return {
    byteLength: size,
    get bytesRead() {
      return bytesRead;
    },
    async slice(start: number, end: number = size): Promise<ArrayBuffer> {
      if (closed) throw new IoError('Parquet file was closed', { file: path });
      if (start < 0 || end > size || start > end) {
        throw new FormatError(`Parquet metadata points outside the file (bytes ${start}-${end} of ${size})`, {
          file: path,
          byteOffset: start,
        });
      }
      if (start === end) return new ArrayBuffer(0);
      if (tail && start >= tail.start) {
        return tail.bytes.slice(start - tail.start, end - tail.start).buffer;
      }
      const buffer = await readRange(start, end);
      if (end === size && end - start <= TAIL_CACHE_BYTES) tail = { start, bytes: new Uint8Array(buffer) };
      return buffer;
    },
    close(): Promise<void> {
      // every caller waits for the same close, so "closed" means the descriptor is released
      if (closing) return closing;
      closed = true;
      tail = undefined;
      closing = handle.close();
      return closing;
    },
  };
}
