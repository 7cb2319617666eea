/**
 * A local file's bytes as chunks read into two buffers used in turn, for a consumer that is done
 * with each chunk when it asks for the next (the fast CSV scanner, which copies the few bytes it
 * keeps). A ReadStream allocates a fresh buffer per read: on a tick CSV read to Arrow those were
 * two thirds of the ArrayBuffer bytes the read allocated, and V8 starts a full collection for about
 * every 64 MB of them. One read is kept ahead, as a ReadStream does, so the disk and the scan
 * overlap. Each chunk is a new Buffer object over the reused memory, so a cache keyed by the chunk
 * (the scanner's window checks) never answers for older contents.
 */
import { open, type FileHandle } from 'node:fs/promises';

/** The chunk size (mutable only so that tests can make chunks tiny and their reuse frequent). */
export const FILE_CHUNKS = { bytes: 256 * 1024 };

/** Chunks of one file from a byte offset; see the module comment. */
export class FileChunks implements AsyncIterableIterator<Buffer> {
  /** Bytes read from the file so far (the chunk read ahead included, as a ReadStream counts). */
  bytesRead = 0;
  readonly #path: string;
  readonly #signal: AbortSignal | undefined;
  #handle: FileHandle | undefined;
  /** Where the next read starts; null: where the last one ended (a pipe or a device cannot seek). */
  #position: number | null;
  readonly #buffers: [Buffer, Buffer];
  #turn = 0;
  /** The read into `#buffers[#turn]` under way: the next chunk. */
  #ahead: Promise<number> | undefined;
  #closed = false;

  /**
   * @param path the file
   * @param start the byte offset of the first chunk
   * @param signal an abort fails the next `next()` with the signal's reason
   */
  constructor(path: string, start = 0, signal?: AbortSignal) {
    this.#path = path;
    // from the start, reads follow one another (one is in flight at a time), so a FIFO or a
    // device such as /dev/stdin, which cannot take a position, reads as a ReadStream reads it
    this.#position = start > 0 ? start : null;
    this.#signal = signal;
    const size = FILE_CHUNKS.bytes;
    this.#buffers = [Buffer.allocUnsafeSlow(size), Buffer.allocUnsafeSlow(size)];
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  /** The next chunk, valid until the following call; the file is closed at its end or on an error. */
  async next(): Promise<IteratorResult<Buffer>> {
    if (this.#closed) return { done: true, value: undefined };
    try {
      const signal = this.#signal;
      if (signal?.aborted) throw signal.reason instanceof Error ? signal.reason : new Error('aborted');
      this.#handle ??= await open(this.#path, 'r');
      const n = await (this.#ahead ?? this.#read(this.#turn));
      this.#ahead = undefined;
      if (n === 0) {
        await this.return();
        return { done: true, value: undefined };
      }
      const buffer = this.#buffers[this.#turn]!;
      const chunk = Buffer.from(buffer.buffer, buffer.byteOffset, n);
      // the other buffer held the chunk before this one, which the caller is done with
      this.#turn ^= 1;
      this.#ahead = this.#read(this.#turn);
      // a failed read ahead is thrown by the next call (or dropped by return())
      this.#ahead.catch(() => {});
      return { done: false, value: chunk };
    } catch (error) {
      await this.return();
      throw error;
    }
  }

  /** Closes the file (after the read under way, if any); later calls to `next()` are done. */
  async return(): Promise<IteratorResult<Buffer>> {
    if (this.#closed) return { done: true, value: undefined };
    this.#closed = true;
    await this.#ahead?.catch(() => {});
    this.#ahead = undefined;
    await this.#handle?.close();
    this.#handle = undefined;
    return { done: true, value: undefined };
  }

  async #read(turn: number): Promise<number> {
    const buffer = this.#buffers[turn]!;
    const { bytesRead } = await this.#handle!.read(buffer, 0, buffer.length, this.#position);
    if (this.#position !== null) this.#position += bytesRead;
    this.bytesRead += bytesRead;
    return bytesRead;
  }
}
