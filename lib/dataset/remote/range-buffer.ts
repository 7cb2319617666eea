/**
 * A remote object as a {@link FileBuffer}: each `slice(start, end)` becomes one ranged GET, so a
 * Parquet reader downloads the footer and the column chunks it needs and nothing else. Requests
 * are bounded (`concurrency` in flight), retried with backoff (retry.ts), and pinned to the first
 * answer's ETag: later requests send it as `If-Match`, and an answer with another ETag (a store
 * that ignores `If-Match`) is refused too, so an object replaced mid-read is an IoError, never a
 * mix of two versions. A body shorter than its range (a connection cut mid-body) is retried.
 */
import { FormatError, IoError } from '../../core/errors.ts';
import type { FileBuffer } from '../../formats/parquet/fileBuffer.ts';
import { withRetries, type RetryPolicy } from './retry.ts';
import { TransientError, changedError, type ByteRange, type RemoteTransport } from './transport.ts';

/** Limits of {@link openRangeBuffer}. */
export interface RangeBufferOptions extends RetryPolicy {
  /** Most requests in flight. */
  readonly concurrency: number;
}

/** The first request reads this much of the tail: the footer of most files, and the size and ETag. */
const FIRST_TAIL_BYTES = 1 << 16;
const TAIL_CACHE_BYTES = 1 << 20;

/** Reads a whole answer body, checking its length; a body cut short is transient. */
async function readBody(body: AsyncIterable<Uint8Array>, expected: number): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let length = 0;
  try {
    for await (const chunk of body) {
      chunks.push(chunk);
      length += chunk.length;
    }
  } catch (error) {
    throw new TransientError(`connection dropped after ${length} bytes of ${expected}`, { cause: error });
  }
  if (Number.isFinite(expected) && length !== expected)
    throw new TransientError(`short body: ${length} bytes of ${expected}`);
  // one chunk is copied too: a Buffer may be a view of a larger pooled ArrayBuffer
  const out = new Uint8Array(length);
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
}

/**
 * Opens a ranged view of the object behind `transport` (one request: the tail, which gives the
 * size and the ETag and primes the footer cache).
 * @throws IoError when the object cannot be read
 */
export async function openRangeBuffer(transport: RemoteTransport, options: RangeBufferOptions): Promise<FileBuffer> {
  const shown = transport.shown;
  const controller = new AbortController();
  let active = 0;
  const waiting: Array<() => void> = [];
  let etag: string | undefined;
  let bytesRead = 0;
  let closed = false;

  async function slot<T>(fn: () => Promise<T>): Promise<T> {
    while (active >= options.concurrency) await new Promise<void>((resolve) => waiting.push(resolve));
    active++;
    try {
      return await fn();
    } finally {
      active--;
      waiting.shift()?.();
    }
  }

  async function get(range: ByteRange): Promise<{ bytes: Uint8Array; total: number; start: number }> {
    return withRetries(
      async () => {
        if (closed) throw new IoError('The remote file was closed', { file: shown });
        const answer = await transport.get(range, etag, controller.signal);
        if (etag !== undefined && answer.etag !== undefined && answer.etag !== etag) {
          answer.cancel();
          throw changedError(shown);
        }
        const bytes = await readBody(answer.body, answer.length);
        etag ??= answer.etag;
        bytesRead += bytes.length;
        return { bytes, total: answer.total, start: answer.start };
      },
      options,
      shown,
      controller.signal,
    );
  }

  const first = await slot(() => get({ suffix: FIRST_TAIL_BYTES }));
  const size = first.total;
  if (!Number.isFinite(size))
    throw new IoError('The server did not say how large the object is (no Content-Range total)', { file: shown });
  // the answer's own range counts (some S3-compatible servers answer a suffix range from byte 0)
  let tail: { start: number; bytes: Uint8Array } | undefined =
    first.start + first.bytes.length === size ? { start: first.start, bytes: first.bytes } : undefined;

  return {
    byteLength: size,
    get bytesRead() {
      return bytesRead;
    },
    async slice(start: number, end: number = size): Promise<ArrayBuffer> {
      if (closed) throw new IoError('The remote file was closed', { file: shown });
      if (start < 0 || end > size || start > end)
        throw new FormatError(`Metadata points outside the file (bytes ${start}-${end} of ${size})`, {
          file: shown,
          byteOffset: start,
        });
      if (start === end) return new ArrayBuffer(0);
      if (tail && start >= tail.start) return tail.bytes.slice(start - tail.start, end - tail.start).buffer;
      const { bytes } = await slot(() => get({ start, end: end - 1 }));
      if (end === size && end - start <= TAIL_CACHE_BYTES) tail = { start, bytes };
      return bytes.slice().buffer;
    },
    async close(): Promise<void> {
      closed = true;
      tail = undefined;
      controller.abort();
    },
  };
}
