/**
 * One GET of a byte range of a remote object, whatever the protocol: the range reader (Parquet,
 * Arrow) and the resuming stream (CSV, JSON Lines) are written once against this interface, and
 * HTTP (http-transport.ts) and S3 (s3-transport.ts) each implement it. A transport classifies its
 * failures: {@link TransientError} for what a retry may fix (5xx, a dropped or refused connection),
 * an IoError for what it cannot (404, 403, a changed object).
 */
import { IoError } from '../../core/errors.ts';

/** Which bytes to get: `[start, end]` inclusive, from `start` to the end, or the last `suffix` bytes. */
export type ByteRange = { readonly start: number; readonly end?: number } | { readonly suffix: number };

/** The answer to a ranged GET, its body not yet read. */
export interface RangeAnswer {
  /** First byte of the body in the object. */
  readonly start: number;
  /** Size of the whole object (NaN when the server does not say). */
  readonly total: number;
  /** Bytes the body should hold (NaN when unknown). */
  readonly length: number;
  /** The object's ETag, when the server sent one. */
  readonly etag: string | undefined;
  /** The body. */
  readonly body: AsyncIterable<Uint8Array>;
  /** Stops reading the body and releases its connection. Idempotent. */
  cancel(): void;
}

/** A remote object as ranged GETs. */
export interface RemoteTransport {
  /** The URL as it may be shown (no credentials, no query string). */
  readonly shown: string;
  /**
   * Gets `range`, pinned to `etag` when given (`If-Match`).
   * @throws TransientError when a retry may succeed; IoError otherwise
   */
  get(range: ByteRange, etag: string | undefined, signal: AbortSignal): Promise<RangeAnswer>;
}

/** A failure a retry may fix (5xx answer, dropped or refused connection, short body). Internal: never reaches users. */
export class TransientError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TransientError';
  }
}

/** The `Range` header value for `range`. */
export function rangeHeader(range: ByteRange): string {
  if ('suffix' in range) return `bytes=-${range.suffix}`;
  return `bytes=${range.start}-${range.end ?? ''}`;
}

/** Parses `bytes a-b/total` (total may be `*`). */
export function parseContentRange(
  value: string | null | undefined,
): { start: number; end: number; total: number } | undefined {
  const match = /bytes (\d+)-(\d+)\/(\d+|\*)/.exec(value ?? '');
  if (!match) return undefined;
  return { start: Number(match[1]), end: Number(match[2]), total: match[3] === '*' ? Number.NaN : Number(match[3]) };
}

/** The IoError for an object that changed between two requests of one read. */
export function changedError(shown: string, stage?: string): IoError {
  return new IoError('The remote object changed during the read (its ETag no longer matches)', {
    ...(stage ? { stage } : {}),
    file: shown,
  });
}

/** Node and undici error codes of connections that failed or dropped: worth a retry. */
const TRANSIENT_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'ERR_STREAM_PREMATURE_CLOSE',
]);

/** True when `error` (or its cause) is a network failure a retry may fix. */
export function isNetworkError(error: unknown): boolean {
  for (
    let e = error as { code?: unknown; cause?: unknown; message?: unknown } | undefined, depth = 0;
    e && depth < 4;
    e = e.cause as typeof e, depth++
  ) {
    if (typeof e.code === 'string' && TRANSIENT_CODES.has(e.code)) return true;
    if (e instanceof TypeError && e.message === 'fetch failed') return true;
    if (e instanceof Error && /terminated|other side closed|socket hang up/i.test(e.message)) return true;
  }
  return false;
}

/** The body of an empty object. */
export async function* emptyBody(): AsyncGenerator<Uint8Array> {}
