/**
 * Whether native codecs may run on their own thread pools. lz4-napi's and snappy's async calls
 * start a tokio runtime (two threads, each with its own allocator arena) whose memory a run near
 * its limit cannot afford: a sort of 1M trades rows to Parquet at a 256 MB governor limit passed
 * the critical mark in 4 of 4 runs with async compression (spill runs in LZ4, pages in snappy) and
 * finished in 4 of 4 with synchronous compression, at a peak of 204-207 MB. So while any live
 * governor is past `ok`, codecs compress on the calling thread; otherwise on their pools, which
 * lets compression overlap the pipeline's own work on a second core.
 */

const pressed = new Set<object>();

/** A governor reports whether it is past `ok` (and `false` when it closes). */
export function notePressure(owner: object, isPressed: boolean): void {
  if (isPressed) pressed.add(owner);
  else pressed.delete(owner);
}

/** True when native codecs may run asynchronously on their own threads. */
export function nativePoolsAllowed(): boolean {
  return pressed.size === 0;
}
