/**
 * Schema drift between batches: which column kind holds two kinds exactly. Used while the first
 * row group is still buffered, when its columns can still be re-typed (the fast CSV path picks a
 * type per batch: Int32 in one batch, Float64 or Null in the next).
 */
import { intRange } from './column-buffer.ts';
import type { ColumnKind } from './schema.ts';

const SIGNED_INTS: readonly ColumnKind[] = ['int8', 'int16', 'int32'];
/** Timestamp kinds from coarse to fine: a finer one holds a coarser one's values exactly. */
const TIMESTAMPS: readonly ColumnKind[] = ['timestamp', 'timestamp_us', 'timestamp_ns'];
/** Times of day the same way. */
const TIMES: readonly ColumnKind[] = ['time_ms', 'time_us', 'time_ns'];

/** The narrowest kind holding every value of `a` and of `b` exactly, or undefined. */
export function widenKind(a: ColumnKind, b: ColumnKind): ColumnKind | undefined {
  if (a === b) return a;
  if (a === 'null') return b;
  if (b === 'null') return a;
  const finer = TIMESTAMPS.indexOf(a) >= 0 && TIMESTAMPS.indexOf(b) >= 0;
  if (finer) return TIMESTAMPS[Math.max(TIMESTAMPS.indexOf(a), TIMESTAMPS.indexOf(b))];
  if (TIMES.includes(a) && TIMES.includes(b)) return TIMES[Math.max(TIMES.indexOf(a), TIMES.indexOf(b))];
  const ra = intRange(a);
  const rb = intRange(b);
  if (ra !== undefined && rb !== undefined) {
    const lo = Math.min(ra[0], rb[0]);
    const hi = Math.max(ra[1], rb[1]);
    if (lo >= 0) return hi <= 255 ? 'uint8' : hi <= 65535 ? 'uint16' : 'uint32';
    for (const kind of SIGNED_INTS) {
      const r = intRange(kind)!;
      if (r[0] <= lo && r[1] >= hi) return kind;
    }
    return 'int64';
  }
  const isInt = (k: ColumnKind) => intRange(k) !== undefined;
  if ((isInt(a) && b === 'int64') || (isInt(b) && a === 'int64')) return 'int64';
  const isFloat = (k: ColumnKind) => k === 'float' || k === 'double';
  if (isFloat(a) && isFloat(b)) return 'double';
  if ((isInt(a) && isFloat(b)) || (isInt(b) && isFloat(a))) return 'double';
  return undefined;
}
