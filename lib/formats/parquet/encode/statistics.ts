/**
 * Column chunk statistics: null count, and min/max as PLAIN-encoded bytes in the column's sort
 * order (signed for ints and floats, unsigned for UINT kinds, unsigned bytewise for byte arrays;
 * min/max omitted for a chunk of only nulls, and for a float chunk holding a NaN).
 */
import { isUnsigned } from './schema.ts';
import type { ColumnBuffer } from './column-buffer.ts';

/** Statistics of one column chunk. */
export interface ChunkStatistics {
  nullCount: number;
  min?: Uint8Array;
  max?: Uint8Array;
}

/** Byte arrays longer than this are left out of min/max (a footer should stay small). */
const MAX_STAT_BYTES = 1024;

function le(bytes: number, write: (v: DataView) => void): Uint8Array {
  const out = new Uint8Array(bytes);
  write(new DataView(out.buffer));
  return out;
}

/** Unsigned bytewise comparison of a[as, ae) and b[bs, be). */
export function compareBytes(a: Uint8Array, as: number, ae: number, b: Uint8Array, bs: number, be: number): number {
  const n = Math.min(ae - as, be - bs);
  let k = 0;
  // skip the common prefix 4 bytes at a time (timestamps as text share their first ~17 bytes)
  while (
    k + 4 <= n &&
    a[as + k] === b[bs + k] &&
    a[as + k + 1] === b[bs + k + 1] &&
    a[as + k + 2] === b[bs + k + 2] &&
    a[as + k + 3] === b[bs + k + 3]
  )
    k += 4;
  for (; k < n; k++) {
    const d = a[as + k]! - b[bs + k]!;
    if (d !== 0) return d;
  }
  return ae - as - (be - bs);
}

/**
 * Unsigned bytewise comparison of data[as, ae) and data[bs, be) (negative, zero or positive), four
 * bytes a step through `view` (over the same bytes): big-endian words order as their bytes do.
 */
function compareWithin(view: DataView, data: Uint8Array, as: number, ae: number, bs: number, be: number): number {
  const n = Math.min(ae - as, be - bs);
  let k = 0;
  for (; k + 4 <= n; k += 4) {
    const x = view.getUint32(as + k);
    const y = view.getUint32(bs + k);
    if (x !== y) return x < y ? -1 : 1;
  }
  for (; k < n; k++) {
    const d = data[as + k]! - data[bs + k]!;
    if (d !== 0) return d;
  }
  return ae - as - (be - bs);
}

/**
 * Min and max over byte-array values given by `offsets` (value i = data[offsets[i], offsets[i+1])),
 * for the rows whose `defs` is 1 (all when defs is undefined).
 *
 * A value above the max cannot be below the min, so it is compared with the max first and with
 * the min only when it is not above: one comparison a value for ascending data (timestamps as
 * text, ids), where the two comparisons of every value were most of a chunk's encoding.
 */
export function bytesMinMax(
  data: Uint8Array,
  offsets: Int32Array,
  count: number,
  defs: Uint8Array | undefined,
): { min?: Uint8Array; max?: Uint8Array } {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  let lo = -1;
  let loS = 0;
  let loE = 0;
  let hiS = 0;
  let hiE = 0;
  for (let i = 0; i < count; i++) {
    if (defs !== undefined && defs[i] === 0) continue;
    const s = offsets[i]!;
    const e = offsets[i + 1]!;
    if (lo < 0) {
      lo = i;
      loS = hiS = s;
      loE = hiE = e;
    } else if (compareWithin(view, data, s, e, hiS, hiE) > 0) {
      hiS = s;
      hiE = e;
    } else if (compareWithin(view, data, s, e, loS, loE) < 0) {
      loS = s;
      loE = e;
    }
  }
  if (lo < 0) return {};
  if (loE - loS > MAX_STAT_BYTES || hiE - hiS > MAX_STAT_BYTES) return {};
  // copies (Buffer#slice would share memory the column reuses for its next row group)
  const min = Uint8Array.prototype.slice.call(data, loS, loE);
  const max = Uint8Array.prototype.slice.call(data, hiS, hiE);
  return { min, max };
}

/**
 * Statistics of the buffered values of a column, or of its rows `[start, end)` (a page, for the
 * page index: encode/page-index.ts).
 */
export function fixedStatistics(col: ColumnBuffer, start = 0, end = col.n): ChunkStatistics {
  const whole = start === 0 && end === col.n;
  const defs = col.nullable && col.nulls > 0 ? col.defs : undefined;
  let nullCount = whole ? col.nulls : 0;
  if (!whole && defs !== undefined) for (let i = start; i < end; i++) nullCount += 1 - defs[i]!;
  // byte-array decimals order as signed numbers, not bytewise: min/max left out
  if (nullCount === end - start || col.kind === 'decimal') return { nullCount };
  switch (col.storage) {
    case 'i32':
      return { nullCount, ...int32MinMax(col, defs, start, end) };
    case 'i64':
      return { nullCount, ...int64MinMax(col, defs, start, end) };
    case 'f32':
    case 'f64':
      return { nullCount, ...floatMinMax(col, defs, start, end) };
    case 'bool':
      return { nullCount, ...boolMinMax(col, defs, start, end) };
    case 'bytes':
      return {
        nullCount,
        ...bytesMinMax(col.data, col.offsets.subarray(start, end + 1), end - start, defs?.subarray(start, end)),
      };
  }
}

type MinMax = { min?: Uint8Array; max?: Uint8Array };

function int32MinMax(col: ColumnBuffer, defs: Uint8Array | undefined, start: number, end: number): MinMax {
  const a = col.i32;
  const unsigned = isUnsigned(col.kind);
  let min = Infinity;
  let max = -Infinity;
  for (let i = start; i < end; i++) {
    if (defs !== undefined && defs[i] === 0) continue;
    const v = unsigned ? a[i]! >>> 0 : a[i]!;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return { min: le(4, (d) => d.setUint32(0, min >>> 0, true)), max: le(4, (d) => d.setUint32(0, max >>> 0, true)) };
}

/** Compares as (high word, low word) pairs: reading a BigInt64Array element allocates a bigint. */
function int64MinMax(col: ColumnBuffer, defs: Uint8Array | undefined, start: number, end: number): MinMax {
  const n = end;
  const w = new Int32Array(col.i64.buffer, col.i64.byteOffset, n * 2);
  const unsigned = isUnsigned(col.kind);
  let lo = -1;
  let hi = -1;
  let loH = 0,
    loL = 0,
    hiH = 0,
    hiL = 0;
  for (let i = start; i < n; i++) {
    if (defs !== undefined && defs[i] === 0) continue;
    const h = unsigned ? w[2 * i + 1]! >>> 0 : w[2 * i + 1]!;
    const l = w[2 * i]! >>> 0;
    if (lo < 0) {
      lo = hi = i;
      loH = hiH = h;
      loL = hiL = l;
      continue;
    }
    if (h < loH || (h === loH && l < loL)) {
      lo = i;
      loH = h;
      loL = l;
    }
    if (h > hiH || (h === hiH && l > hiL)) {
      hi = i;
      hiH = h;
      hiL = l;
    }
  }
  const bytes = new Uint8Array(col.i64.buffer, col.i64.byteOffset, n * 8);
  return { min: bytes.slice(lo * 8, lo * 8 + 8), max: bytes.slice(hi * 8, hi * 8 + 8) };
}

/**
 * No min/max when a value is NaN. The spec leaves NaN out of them, but DuckDB (1.5) prunes row
 * groups by a max that omits NaN as if NaN were the greatest value: `f > 0` or `f = 'NaN'` on
 * such a file lost rows. DuckDB's own writer omits them for such chunks; so do we, and readers
 * simply read those chunks.
 */
function floatMinMax(col: ColumnBuffer, defs: Uint8Array | undefined, start: number, end: number): MinMax {
  if (!floatRange(col.storage === 'f64' ? col.f64 : col.f32, defs, start, end)) return {};
  let min = FLOAT_RANGE[0]!;
  let max = FLOAT_RANGE[1]!;
  // the spec asks for -0 as a zero min and +0 as a zero max
  if (min === 0) min = -0;
  if (max === 0) max = 0;
  if (col.storage === 'f64')
    return { min: le(8, (d) => d.setFloat64(0, min, true)), max: le(8, (d) => d.setFloat64(0, max, true)) };
  return { min: le(4, (d) => d.setFloat32(0, min, true)), max: le(4, (d) => d.setFloat32(0, max, true)) };
}

/** {@link floatRange}'s answer: the least and greatest value. */
const FLOAT_RANGE = new Float64Array(2);

/**
 * The least and greatest of the non-null values in [start, end) into FLOAT_RANGE; false when
 * there is none, or a NaN. A loop of its own: compiled mid-loop in its first long call, floatMinMax met
 * the code after its loop with no type feedback and left its optimised code there again and again.
 */
function floatRange(a: Float64Array | Float32Array, defs: Uint8Array | undefined, start: number, end: number): boolean {
  let min = Infinity;
  let max = -Infinity;
  let seen = false;
  for (let i = start; i < end; i++) {
    if (defs !== undefined && defs[i] === 0) continue;
    const v = a[i]!;
    if (v !== v) return false;
    seen = true;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  FLOAT_RANGE[0] = min;
  FLOAT_RANGE[1] = max;
  return seen;
}

function boolMinMax(col: ColumnBuffer, defs: Uint8Array | undefined, start: number, end: number): MinMax {
  let anyTrue = false;
  let anyFalse = false;
  const a = col.bool;
  for (let i = start; i < end && !(anyTrue && anyFalse); i++) {
    if (defs !== undefined && defs[i] === 0) continue;
    if (a[i] === 1) anyTrue = true;
    else anyFalse = true;
  }
  return { min: Uint8Array.of(anyFalse ? 0 : 1), max: Uint8Array.of(anyTrue ? 1 : 0) };
}
