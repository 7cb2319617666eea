/**
 * The error of a value the rows path holds but its column's Arrow type cannot (an INT96 timestamp
 * past the years 1677-2262: read/arrow-leaf.ts). Its own module, free of apache-arrow, so that the
 * readers that catch it (batch-reader.ts) load nothing more on the rows path.
 */
import { UnsupportedError } from '../../../core/errors.ts';

/**
 * A value the rows path holds but no Arrow type of its column's plan can: a negotiated read then
 * goes on as rows (batch-reader.ts `ParquetArrowReader`), a read that asked for Arrow fails.
 */
export class ArrowRangeError extends UnsupportedError {}

/** `error` when it is an {@link ArrowRangeError}, or the one it wraps; else undefined. */
export function arrowRangeCause(error: unknown): ArrowRangeError | undefined {
  for (let e = error; e instanceof Error; e = e.cause) if (e instanceof ArrowRangeError) return e;
  return undefined;
}
