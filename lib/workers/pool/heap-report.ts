/**
 * A worker thread's V8 heap, as the parent can read it while the thread is busy: the thread writes
 * its used heap into a small SharedArrayBuffer after its module loads, after every batch and every
 * 50 ms while it has a free moment. When a batch's timeout passes, the pool reads the last figure:
 * a thread at its `workerMemoryLimit` is reported as a memory failure, not a timeout (a thread
 * thrashing near its heap limit is slow first and out of memory only later).
 */
import { getHeapStatistics } from 'node:v8';

/** Share of the limit from which a timed-out thread counts as out of memory. */
export const OVER_LIMIT_SHARE = 0.8;

/** Slots of the shared array: used heap bytes, and when it was written (ms since the epoch). */
const USED = 0;
const AT = 1;

/** Parent side: allocates the shared array handed to the thread in its workerData. */
export class HeapReport {
  /** Give this to the thread (workerData `heap`). */
  readonly buffer = new SharedArrayBuffer(2 * Float64Array.BYTES_PER_ELEMENT);
  readonly #view = new Float64Array(this.buffer);

  /** The thread's used heap in bytes when it last wrote it (0 before it did). */
  get used(): number {
    return this.#view[USED] ?? 0;
  }

  /** True when the last figure is at or above {@link OVER_LIMIT_SHARE} of `limit`. */
  nearLimit(limit: number): boolean {
    return this.used >= limit * OVER_LIMIT_SHARE;
  }
}

/**
 * Thread side: writes the used heap into `buffer` now and every `intervalMs` on an unref'd timer
 * (which runs only between batches or while the user function awaits). Returns `write` for the
 * caller to call at its own checkpoints.
 */
export function startHeapWriter(buffer: SharedArrayBuffer, intervalMs = 50): () => void {
  const view = new Float64Array(buffer);
  const write = (): void => {
    view[USED] = getHeapStatistics().used_heap_size;
    view[AT] = Date.now();
  };
  write();
  setInterval(write, intervalMs).unref();
  return write;
}
