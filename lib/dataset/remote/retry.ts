/**
 * Retries with exponential backoff, shared by every remote read: a {@link TransientError} or a
 * network failure waits `backoffMs * 2^(attempt-1)` and tries again, up to `retries` times;
 * anything else (a 404, a changed object, an abort) fails at once. The wait listens to the
 * caller's signal, so an abort never sleeps out a backoff.
 */
import { IoError } from '../../core/errors.ts';
import { TransientError, isNetworkError } from './transport.ts';

/** How a failing call is retried. */
export interface RetryPolicy {
  readonly retries: number;
  readonly backoffMs: number;
}

/** Resolves after `ms`, or rejects with the signal's reason when it aborts first. */
export function backoff(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** True when a retry may fix `error`. */
export function isRetryable(error: unknown): boolean {
  return error instanceof TransientError || (!(error instanceof IoError) && isNetworkError(error));
}

/**
 * Runs `fn` until it succeeds, fails with an error no retry can fix, or has failed `retries + 1`
 * times; the last failure is an IoError naming `shown` with the attempts made.
 */
export async function withRetries<T>(
  fn: (attempt: number) => Promise<T>,
  policy: RetryPolicy,
  shown: string,
  signal: AbortSignal,
): Promise<T> {
  let last: unknown;
  for (let attempt = 0; attempt <= policy.retries; attempt++) {
    if (attempt > 0) await backoff(policy.backoffMs * 2 ** (attempt - 1), signal);
    try {
      return await fn(attempt);
    } catch (error) {
      if (signal.aborted || !isRetryable(error)) throw error;
      last = error;
    }
  }
  throw exhausted(shown, last, policy.retries + 1);
}

/** The IoError after the last attempt failed. */
export function exhausted(shown: string, last: unknown, attempts: number): IoError {
  const reason = last instanceof Error ? last.message : String(last);
  return new IoError(`Cannot read ${shown}: ${reason} (after ${attempts} attempts)`, { file: shown }, { cause: last });
}
