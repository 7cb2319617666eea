/**
 * A Writable the caller gave a sink (`toCsv(res)`, `toArrow(process.stdout)`): written to, ended
 * and given up on as Node's own `stream.pipeline` treats a destination, with three differences
 * from the plain `once(stream, ...)` waits the sinks had:
 *
 * - a wait for 'drain' or 'finish' also ends when the stream closes without an error (an HTTP
 *   client that disconnects): it waited for ever, and the run never settled;
 * - `process.stdout` and `process.stderr` are flushed, never ended (as `.pipe()` and
 *   `stream.pipeline` leave them): ending stdout lost everything the program printed after the run;
 * - giving up destroys the stream with the run's error only once an 'error' listener is there to
 *   hear it: a stream nobody listened to raised an unhandled 'error' event that crashed the process
 *   after `pipeline()` had already rejected.
 */
import type { Writable } from 'node:stream';

/** True for the process's own stdout and stderr, which no sink ends or destroys. */
function isStdio(stream: Writable): boolean {
  return stream === process.stdout || stream === process.stderr;
}

/**
 * Resolves on `event` ('drain' or 'finish'); rejects when the stream errors, closes before it, or
 * `signal` aborts.
 */
function until(stream: Writable, event: 'drain' | 'finish', signal?: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const done = (error?: unknown): void => {
      stream.off(event, onEvent);
      stream.off('error', onError);
      stream.off('close', onClose);
      signal?.removeEventListener('abort', onAbort);
      if (error === undefined) resolve();
      else reject(error);
    };
    const onEvent = (): void => done();
    const onError = (error: unknown): void => done(error);
    const onClose = (): void =>
      done(stream.errored ?? new Error(`the stream closed before its '${event}' (the reader went away)`));
    const onAbort = (): void => done(signal?.reason ?? new Error('aborted'));
    if (signal?.aborted) return onAbort();
    if (stream.closed) return onClose();
    stream.on(event, onEvent);
    stream.on('error', onError);
    stream.on('close', onClose);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Writes `data`; resolves when the stream takes more (its backpressure). */
export async function writeToCaller(stream: Writable, data: string | Uint8Array, signal?: AbortSignal): Promise<void> {
  if (stream.destroyed || stream.closed) throw stream.errored ?? new Error('the stream was destroyed');
  if (!stream.write(data)) await until(stream, 'drain', signal);
}

/** Waits until what was written is taken, after earlier writes that filled the buffer (no write of its own). */
export async function drainCaller(stream: Writable, signal?: AbortSignal): Promise<void> {
  if (stream.destroyed || stream.closed) throw stream.errored ?? new Error('the stream was destroyed');
  if (stream.writableNeedDrain) await until(stream, 'drain', signal);
}

/** Ends the stream and waits for 'finish'; stdout and stderr are only flushed. */
export async function endCaller(stream: Writable): Promise<void> {
  if (isStdio(stream)) {
    if (stream.writableNeedDrain) await until(stream, 'drain');
    return;
  }
  stream.end();
  if (!stream.writableFinished) await until(stream, 'finish');
}

/** Gives up on the stream after a failed run: destroyed with `error` (stdout and stderr are left open). */
export function abandonCaller(stream: Writable, error: Error | null): void {
  if (isStdio(stream) || stream.destroyed) return;
  // the error is the run's, which pipeline() rejects with: a stream with no listener must not crash on it
  if (error && stream.listenerCount('error') === 0) stream.once('error', () => undefined);
  stream.destroy(error ?? undefined);
}
