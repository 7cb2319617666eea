/**
 * {@link RemoteTransport} over S3: a `GetObject` with `Range` and `IfMatch` per call, through the
 * optional SDK (s3-client.ts). 5xx answers, throttling and failed connections are transient;
 * `PreconditionFailed` is a changed object. Stores that ignore `IfMatch` are still caught: the
 * range reader and the stream compare every answer's ETag with the first.
 */
import type { Readable } from 'node:stream';
import { IoError } from '../../core/errors.ts';
import { s3, s3Code, s3Error, s3Status } from './s3-client.ts';
import { parseS3Url } from './url.ts';
import {
  TransientError,
  changedError,
  emptyBody,
  isNetworkError,
  parseContentRange,
  rangeHeader,
  type ByteRange,
  type RangeAnswer,
  type RemoteTransport,
} from './transport.ts';

interface GetObjectOutput {
  Body?: Readable & AsyncIterable<Uint8Array>;
  ContentRange?: string;
  ContentLength?: number;
  ETag?: string;
}

const TRANSIENT_S3 = new Set([
  'SlowDown',
  'InternalError',
  'ServiceUnavailable',
  'RequestTimeout',
  'TimeoutError',
  'ThrottlingException',
  'RequestTimeTooSkewed',
]);

/** Stops a body: a Node stream is destroyed, another async iterable is returned. */
function release(body: unknown): void {
  const b = body as { destroy?: () => void; return?: () => unknown };
  if (typeof b.destroy === 'function') b.destroy();
  else if (typeof b.return === 'function') void Promise.resolve(b.return()).catch(() => undefined);
}

/** The transport for an `s3://bucket/key` URL. */
export function s3Transport(url: string): RemoteTransport {
  const { bucket, key } = parseS3Url(url);
  const shown = url;
  return {
    shown,
    async get(range: ByteRange, etag: string | undefined, signal: AbortSignal): Promise<RangeAnswer> {
      const { sdk, client } = await s3();
      const fromStart = !('suffix' in range) && range.start === 0 && range.end === undefined;
      let out: GetObjectOutput;
      try {
        const input = { Bucket: bucket, Key: key, Range: rangeHeader(range), ...(etag ? { IfMatch: etag } : {}) };
        out = (await client.send(new sdk.GetObjectCommand(input), { abortSignal: signal })) as GetObjectOutput;
      } catch (error) {
        if (signal.aborted) throw error;
        const status = s3Status(error);
        const code = s3Code(error);
        // 416 within a read pinned to an ETag: the object shrank, so it changed (for stores that ignore IfMatch)
        if (
          status === 412 ||
          code === 'PreconditionFailed' ||
          ((status === 416 || code === 'InvalidRange') && etag !== undefined)
        )
          throw changedError(shown);
        if ((status === 416 || code === 'InvalidRange') && fromStart) {
          return { start: 0, total: 0, length: 0, etag: undefined, body: emptyBody(), cancel: () => undefined };
        }
        if (
          (status !== undefined && status >= 500) ||
          TRANSIENT_S3.has(code) ||
          (status === undefined && isNetworkError(error))
        ) {
          throw new TransientError(`S3 GetObject: ${code}${status === undefined ? '' : ` (HTTP ${status})`}`);
        }
        throw s3Error('GetObject', shown, error);
      }
      const body = out.Body;
      if (body === undefined) throw new IoError('S3 GetObject answered without a body', { file: shown });
      const cr = parseContentRange(out.ContentRange);
      const length = out.ContentLength ?? Number.NaN;
      if (!cr && !fromStart) {
        release(body);
        throw new IoError('S3 answered a Range request without a Content-Range', { file: shown });
      }
      return {
        start: cr?.start ?? 0,
        total: cr?.total ?? length,
        length: cr ? cr.end - cr.start + 1 : length,
        etag: out.ETag,
        body,
        cancel: () => release(body),
      };
    },
  };
}
