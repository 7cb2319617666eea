/**
 * A Parquet file over HTTP(S) as a {@link FileBuffer}: the reader asks for byte ranges (the
 * footer, then the column chunks of the row groups it reads), and each becomes a `Range` request,
 * so a filtered or projected read downloads only what it needs. Requests are bounded (at most
 * `concurrency` at once), retried with exponential backoff on 5xx answers and dropped
 * connections, and pinned to the first answer's ETag (`If-Match`): an object that changes in the
 * middle of a read is an IoError, never a mix of two versions. Uses Node's global `fetch`.
 */
import { FormatError, IoError } from '../core/errors.ts';
import type { FileBuffer } from '../formats/parquet/fileBuffer.ts';

/** True for `http://` and `https://` URLs. */
export function isHttpUrl(path: string): boolean {
  return /^https?:\/\//i.test(path);
}

/** Options of {@link openHttpBuffer}. */
export interface HttpBufferOptions {
  /** Most requests in flight (default 4). */
  concurrency?: number;
  /** Retries of a failed request (default 4; backoff 100 ms doubling). */
  retries?: number;
  /** First backoff in milliseconds (default 100). */
  backoffMs?: number;
}

const TAIL_CACHE_BYTES = 1 << 20;

/** URLs in messages without credentials or query strings (signed URLs carry secrets there). */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    u.search = u.search ? '?…' : '';
    return u.toString();
  } catch {
    return '(url)';
  }
}

/**
 * Opens `url` for ranged reads: one request learns the size and ETag (a `Range: bytes=-N` GET for
 * the tail, which also primes the footer cache).
 * @throws IoError when the server cannot be reached, refuses, or does not support ranges
 */
export async function openHttpBuffer(url: string, options: HttpBufferOptions = {}): Promise<FileBuffer> {
  const concurrency = options.concurrency ?? 4;
  const retries = options.retries ?? 4;
  const backoff = options.backoffMs ?? 100;
  const shown = redactUrl(url);
  let active = 0;
  const waiting: Array<() => void> = [];
  let etag: string | undefined;
  let bytesRead = 0;
  let closed = false;
  const controller = new AbortController();

  async function slot<T>(fn: () => Promise<T>): Promise<T> {
    if (active >= concurrency) await new Promise<void>((resolve) => waiting.push(resolve));
    active++;
    try {
      return await fn();
    } finally {
      active--;
      waiting.shift()?.();
    }
  }

  /** One ranged GET with retries; `range` is the header value. */
  async function get(range: string): Promise<{ bytes: Uint8Array; total: number }> {
    let lastError: unknown;
    for (let attempt = 0; attempt <= retries; attempt++) {
      if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, backoff * 2 ** (attempt - 1)));
      if (closed) throw new IoError('HTTP file was closed', { file: shown });
      let response: Response;
      try {
        response = await fetch(url, { headers: { range, ...(etag ? { 'if-match': etag } : {}) }, signal: controller.signal });
      } catch (error) {
        lastError = error;
        continue;
      }
      if (response.status >= 500) {
        lastError = new Error(`HTTP ${response.status}`);
        await response.body?.cancel().catch(() => undefined);
        continue;
      }
      if (response.status === 412) throw new IoError('The remote object changed during the read (ETag no longer matches)', { file: shown });
      if (response.status !== 206) {
        await response.body?.cancel().catch(() => undefined);
        throw new IoError(response.status === 200 ? 'The server does not support range requests (answered 200 to a Range request)' : `HTTP ${response.status} ${response.statusText}`, { file: shown });
      }
      const tag = response.headers.get('etag') ?? undefined;
      if (etag !== undefined && tag !== undefined && tag !== etag) throw new IoError('The remote object changed during the read (another ETag)', { file: shown });
      etag ??= tag;
      const match = /bytes (\d+)-(\d+)\/(\d+)/.exec(response.headers.get('content-range') ?? '');
      if (!match) throw new IoError('Range answer without a usable Content-Range header', { file: shown });
      let bytes: Uint8Array;
      try {
        bytes = new Uint8Array(await response.arrayBuffer());
      } catch (error) {
        // a connection dropped mid-body: retry
        lastError = error;
        continue;
      }
      if (bytes.length !== Number(match[2]) - Number(match[1]) + 1) {
        lastError = new Error(`short body: ${bytes.length} bytes for ${match[0]}`);
        continue;
      }
      bytesRead += bytes.length;
      return { bytes, total: Number(match[3]) };
    }
    throw new IoError(`Cannot read ${shown}: ${lastError instanceof Error ? lastError.message : String(lastError)} (after ${retries + 1} attempts)`, { file: shown }, { cause: lastError });
  }

  const first = await slot(() => get(`bytes=-${1 << 16}`));
  const size = first.total;
  let tail: { start: number; bytes: Uint8Array } | undefined = { start: size - first.bytes.length, bytes: first.bytes };

  return {
    byteLength: size,
    get bytesRead() {
      return bytesRead;
    },
    async slice(start: number, end: number = size): Promise<ArrayBuffer> {
      if (closed) throw new IoError('HTTP file was closed', { file: shown });
      if (start < 0 || end > size || start > end) throw new FormatError(`Parquet metadata points outside the file (bytes ${start}-${end} of ${size})`, { file: shown, byteOffset: start });
      if (start === end) return new ArrayBuffer(0);
      if (tail && start >= tail.start) return tail.bytes.slice(start - tail.start, end - tail.start).buffer;
      const { bytes } = await slot(() => get(`bytes=${start}-${end - 1}`));
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
