/**
 * The RLE / bit-packed hybrid encoding of Parquet levels and dictionary indices, decoded into
 * typed arrays: one byte a level (two typed arrays of a page's levels take 2 bytes a value, where
 * hyparquet's number arrays took 16). Every decoded value is checked against its maximum, so a
 * corrupt level or dictionary index is an error here instead of a wrong shape or a missing value
 * later.
 */

/** A typed array that levels or indices are decoded into. */
export type LevelArray = Uint8Array | Uint16Array | Int32Array;

/** Bits needed to store `max` (0 for 0). */
export function bitWidthOf(max: number): number {
  return 32 - Math.clz32(max);
}

/** A typed array for `count` values no larger than `max`: the narrowest that holds them. */
export function levelArray(count: number, max: number): LevelArray {
  return max < 256 ? new Uint8Array(count) : max < 65536 ? new Uint16Array(count) : new Int32Array(count);
}

function tooLarge(value: number, max: number, what: string): Error {
  return new Error(`${what} ${value} is above its maximum ${max}`);
}

/**
 * Decodes `out.length` values of `width` bits from `bytes[start, end)` into `out`.
 * @param max largest valid value; a larger one throws
 * @param what names the values in messages (e.g. "definition level")
 * @returns the position after the last run read
 * @throws Error when the runs end before `out` is full, or hold a value above `max`
 */
export function decodeHybrid(
  bytes: Uint8Array,
  start: number,
  end: number,
  width: number,
  out: LevelArray,
  max: number,
  what: string,
): number {
  const count = out.length;
  if (width === 0) {
    // every value is 0; nothing is stored (dictionary of one entry)
    out.fill(0);
    return start;
  }
  if (width > 32) throw new Error(`${what}s have a bit width of ${width}, above 32`);
  const valueBytes = (width + 7) >> 3;
  let p = start;
  let seen = 0;
  while (seen < count) {
    if (p >= end) throw new Error(`${what}s end after ${seen} of ${count} values`);
    // ULEB128 run header (at most 5 bytes for 32 bits); one byte is the common case
    let header = bytes[p++]!;
    if (header & 0x80) {
      header &= 0x7f;
      for (let shift = 7; ; shift += 7) {
        if (p >= end || shift > 28) throw new Error(`corrupt run header in ${what}s`);
        const b = bytes[p++]!;
        header += (b & 0x7f) * 2 ** shift;
        if ((b & 0x80) === 0) break;
      }
    }
    if (header % 2 === 0) {
      // RLE run: one little-endian value of valueBytes bytes, repeated
      const run = header / 2;
      if (p + valueBytes > end) throw new Error(`${what}s end inside a run`);
      let value = bytes[p++]!;
      for (let i = 1; i < valueBytes; i++) value += bytes[p++]! * 2 ** (8 * i);
      if (value > max && run > 0) throw tooLarge(value, max, what);
      const stop = Math.min(count, seen + run);
      // short runs (a repetition level between two list elements) are cheaper in a loop than in fill()
      if (run < 16) for (let i = seen; i < stop; i++) out[i] = value;
      else out.fill(value, seen, stop);
      seen = stop;
    } else {
      const values = (header - 1) * 4; // (header >> 1) groups of 8
      const stop = Math.min(count, seen + values);
      const runEnd = p + Math.ceil((values * width) / 8);
      if (width <= 24) seen = unpackNarrow(bytes, p, end, width, out, seen, stop, max, what);
      else seen = unpackWide(bytes, p, end, width, out, seen, stop, max, what);
      p = runEnd;
    }
  }
  return Math.min(p, end);
}

/** Bit-packed values of at most 24 bits: a 32-bit accumulator holds a value and the next byte. */
function unpackNarrow(
  bytes: Uint8Array,
  p: number,
  end: number,
  width: number,
  out: LevelArray,
  seen: number,
  stop: number,
  max: number,
  what: string,
): number {
  const mask = (1 << width) - 1;
  if (p + Math.ceil(((stop - seen) * width) / 8) > end) throw new Error(`${what}s end inside a bit-packed run`);
  // widths that divide a byte (levels are mostly 1 or 2 bits) unpack a byte at a time
  if (8 % width === 0) {
    const per = 8 / width;
    let i = seen;
    for (; i + per <= stop; i += per) {
      let b = bytes[p++]!;
      for (let k = 0; k < per; k++, b >>>= width) out[i + k] = b & mask;
    }
    if (i < stop) for (let b = bytes[p++]!; i < stop; i++, b >>>= width) out[i] = b & mask;
  } else {
    let buffer = 0;
    let bits = 0;
    for (let i = seen; i < stop; i++) {
      if (bits < width) {
        buffer |= bytes[p++]! << bits;
        bits += 8;
        if (bits < width) {
          buffer |= bytes[p++]! << bits;
          bits += 8;
          if (bits < width) {
            buffer |= bytes[p++]! << bits;
            bits += 8;
          }
        }
      }
      out[i] = buffer & mask;
      buffer >>>= width;
      bits -= width;
    }
  }
  // a value above the maximum is possible only when the width can hold more than it
  if (max < mask) {
    for (let i = seen; i < stop; i++) if (out[i]! > max) throw tooLarge(out[i]!, max, what);
  }
  return stop;
}

/** Bit-packed values of 25 to 32 bits, bit by bit in arithmetic (bitwise operators stop at 32 bits). */
function unpackWide(
  bytes: Uint8Array,
  p: number,
  end: number,
  width: number,
  out: LevelArray,
  seen: number,
  stop: number,
  max: number,
  what: string,
): number {
  let bit = 0;
  for (let i = seen; i < stop; i++) {
    let value = 0;
    for (let k = 0; k < width; k++, bit++) {
      const at = p + (bit >> 3);
      if (at >= end) throw new Error(`${what}s end inside a bit-packed run`);
      if ((bytes[at]! >> (bit & 7)) & 1) value += 2 ** k;
    }
    if (value > max) throw tooLarge(value, max, what);
    out[i] = value;
  }
  return stop;
}
