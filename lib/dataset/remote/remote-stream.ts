/**
 * A remote object as a byte stream from its start (CSV, JSON Lines), that survives dropped
 * connections and 5xx answers: after a failure it asks again with `Range: bytes=<reached>-` and
 * `If-Match`, after the same backoff as every remote read, so the bytes delivered are exactly the
 * object's bytes, once each, in order. The retry budget counts failures in a row: any progress
 * resets it. An object whose ETag changes between two requests is an IoError (the rows already
 * delivered came from the old version; nothing of the new one is mixed in). A server that
 * ignores `Range` can be read once, but not resumed.
 */
import { Readable } from 'node:stream';
import { IoError } from '../../core/errors.ts';
import { backoff, exhausted, isRetryable, type RetryPolicy } from './retry.ts';
import { changedError, type RangeAnswer, type RemoteTransport } from './transport.ts';

/** A Readable of the object's bytes; destroying it aborts the request in flight. */
export function remoteStream(transport: RemoteTransport, policy: RetryPolicy): Readable {
  const shown = transport.shown;
  const controller = new AbortController();
  let answer: RangeAnswer | undefined;

  async function* bytes(): AsyncGenerator<Uint8Array> {
    let reached = 0;
    let total = Number.NaN;
    let etag: string | undefined;
    let failures = 0;
    let last: unknown;
    try {
      for (;;) {
        if (failures > policy.retries) throw exhausted(shown, last, failures);
        if (failures > 0) await backoff(policy.backoffMs * 2 ** (failures - 1), controller.signal);
        try {
          answer = await transport.get({ start: reached }, etag, controller.signal);
          if (etag !== undefined && answer.etag !== undefined && answer.etag !== etag) throw changedError(shown);
          if (answer.start !== reached)
            throw new IoError(
              `The server answered from byte ${answer.start} when asked from byte ${reached} (it cannot resume)`,
              { file: shown },
            );
          etag ??= answer.etag;
          if (Number.isNaN(total)) total = answer.total;
          for await (const chunk of answer.body) {
            reached += chunk.length;
            failures = 0;
            yield chunk;
          }
          if (Number.isFinite(total) && reached < total)
            throw Object.assign(new Error(`body ended at byte ${reached} of ${total}`), { code: 'ECONNRESET' });
          return;
        } catch (error) {
          answer?.cancel();
          if (controller.signal.aborted || !isRetryable(error)) throw error;
          last = error;
          failures++;
        }
      }
    } finally {
      answer?.cancel();
    }
  }

  const stream = Readable.from(bytes(), { objectMode: false });
  stream.once('close', () => controller.abort());
  return stream;
}
