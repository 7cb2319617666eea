/**
 * Iterates a source only until a signal aborts. A stage destroyed mid-step waits for the step to
 * settle before it releases its files (lib/operators/operator-transform.ts): a step reading
 * another input (a join's right side) must then end when the signal aborts, even when that input
 * never yields again (a caller's stalled iterable).
 */
import { AbortError } from './errors.ts';

/**
 * Yields `source`'s items until `signal` aborts, then throws an AbortError naming `what` at once.
 * A `next()` still pending then is left to settle on its own: the source is told to return
 * without being awaited; otherwise its return (its cleanup) is awaited as usual.
 */
export async function* untilAborted<T>(source: AsyncIterable<T>, signal: AbortSignal, what: string): AsyncGenerator<T> {
  const iterator = source[Symbol.asyncIterator]();
  const stop = (): AbortError => new AbortError(`${what} was aborted`, { cause: signal.reason });
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(stop());
    signal.addEventListener('abort', onAbort, { once: true });
  });
  aborted.catch(() => undefined);
  let pending = false;
  let done = false;
  try {
    for (;;) {
      if (signal.aborted) throw stop();
      pending = true;
      const result = await Promise.race([iterator.next(), aborted]);
      pending = false;
      if (result.done) {
        done = true;
        return;
      }
      yield result.value;
    }
  } finally {
    signal.removeEventListener('abort', onAbort!);
    if (!done) {
      const returned = Promise.resolve(iterator.return?.()).catch(() => undefined);
      if (!pending) await returned;
    }
  }
}
