/**
 * {@link RemoteTransport} over HTTP(S) with Node's global `fetch`: a `Range` request per call,
 * `If-Match` once the ETag is known. 5xx answers and failed connections are transient; 412 is a
 * changed object; a 200 to a ranged request is accepted only for a read from byte 0 to the end
 * (a server without range support can still be streamed once, but never resumed or sliced).
 */
import type { ReadableStream } from 'node:stream/web';
import { Readable } from 'node:stream';
import { IoError } from '../../core/errors.ts';
import { redactUrl } from './url.ts';
import {
  TransientError,
  changedError,
  emptyBody,
  parseContentRange,
  rangeHeader,
  type ByteRange,
  type RangeAnswer,
  type RemoteTransport,
} from './transport.ts';

/** The transport for an `http(s)://` URL. */
export function httpTransport(url: string): RemoteTransport {
  const shown = redactUrl(url);
  return {
    shown,
    async get(range: ByteRange, etag: string | undefined, signal: AbortSignal): Promise<RangeAnswer> {
      let response: Response;
      try {
        response = await fetch(url, {
          headers: { range: rangeHeader(range), ...(etag ? { 'if-match': etag } : {}) },
          signal,
        });
      } catch (error) {
        if (signal.aborted) throw error;
        throw new TransientError(`connection failed: ${(error as Error).message}`, { cause: error });
      }
      const drop = (): void => void response.body?.cancel().catch(() => undefined);
      if (response.status >= 500) {
        drop();
        throw new TransientError(`HTTP ${response.status}`);
      }
      // 416 within a read pinned to an ETag: the object shrank, so it changed (for servers that ignore If-Match)
      if (response.status === 412 || (response.status === 416 && etag !== undefined)) {
        drop();
        throw changedError(shown);
      }
      const tag = response.headers.get('etag') ?? undefined;
      const fromStart = !('suffix' in range) && range.start === 0 && range.end === undefined;
      if (response.status === 416 && fromStart) {
        // an empty object has no byte 0
        drop();
        return { start: 0, total: 0, length: 0, etag: tag, body: emptyBody(), cancel: () => undefined };
      }
      let start: number;
      let total: number;
      let length: number;
      if (response.status === 206) {
        const cr = parseContentRange(response.headers.get('content-range'));
        if (!cr) {
          drop();
          throw new IoError('Range answer without a usable Content-Range header', { file: shown });
        }
        ({ start, total } = cr);
        length = cr.end - cr.start + 1;
      } else if (response.status === 200 && fromStart) {
        start = 0;
        const declared = response.headers.get('content-length');
        total = declared === null ? Number.NaN : Number(declared);
        length = total;
      } else {
        drop();
        if (response.status === 200)
          throw new IoError('The server does not support range requests (answered 200 to a Range request)', {
            file: shown,
          });
        throw new IoError(`HTTP ${response.status} ${response.statusText}`, { file: shown });
      }
      const body = response.body === null ? emptyBody() : Readable.fromWeb(response.body as ReadableStream<Uint8Array>);
      return {
        start,
        total,
        length,
        etag: tag,
        body,
        cancel: () => {
          if (body instanceof Readable) body.destroy();
        },
      };
    },
  };
}
