/**
 * The RLE / bit-packing hybrid of the Parquet spec, for definition levels and dictionary indices:
 * runs of 8 or more equal values become RLE runs, the rest bit-packed groups of 8 (LSB first).
 *
 * `allowRepeats: false` writes only bit-packed groups: parquetjs-lite misreads RLE runs whose value
 * takes more than one byte (bit width > 8), so dictionary indices that wide are always bit-packed.
 */
import type { Bytes } from './bytes.ts';

type Ints = ArrayLike<number>;

/** Bits needed for values 0..max. */
export function bitWidth(max: number): number {
  return max <= 0 ? 0 : 32 - Math.clz32(max);
}

function repeatsAt(values: Ints, i: number, end: number): number {
  const v = values[i];
  let j = i + 1;
  while (j < end && values[j] === v) j++;
  return j - i;
}

function writeRepeat(out: Bytes, value: number, count: number, width: number): void {
  out.varint(count * 2);
  const bytes = (width + 7) >> 3;
  for (let b = 0; b < bytes; b++) out.byte((value >>> (8 * b)) & 0xff);
}

function writePacked(out: Bytes, values: Ints, start: number, end: number, width: number): void {
  const groups = Math.ceil((end - start) / 8);
  out.varint(groups * 2 + 1);
  out.reserve(groups * width);
  out.length = packGroups(out.buf, out.length, values, start, end, groups * 8, width);
}

/**
 * Bit-packs `total` values from `start` (zeros past `end`) into `buf` at `at`; returns where they
 * end. A loop of its own: compiled mid-loop in its first long call, writePacked reached
 * `out.length = at` with no type feedback for it and left its optimised code there on every call
 * after (1,271 deoptimisations per 1M rows written).
 */
function packGroups(
  buf: Uint8Array,
  at: number,
  values: Ints,
  start: number,
  end: number,
  total: number,
  width: number,
): number {
  let acc = 0;
  let bits = 0;
  for (let k = 0; k < total; k++) {
    const i = start + k;
    const v = i < end ? values[i]! : 0;
    acc |= v << bits;
    bits += width;
    while (bits >= 8) {
      buf[at++] = acc & 0xff;
      acc >>>= 8;
      bits -= 8;
    }
  }
  return at;
}

/**
 * Appends `values[start, end)` hybrid-encoded with `width` bits each (no length prefix).
 * `width` must be 1..24.
 */
export function encodeHybrid(
  out: Bytes,
  values: Ints,
  start: number,
  end: number,
  width: number,
  allowRepeats = width <= 8,
): void {
  let i = start;
  while (i < end) {
    if (allowRepeats) {
      const run = repeatsAt(values, i, end);
      if (run >= 8) {
        writeRepeat(out, values[i]!, run, width);
        i += run;
        continue;
      }
    }
    // bit-pack groups of 8 until a run of 8 equal values starts on a group boundary
    const from = i;
    i += 8;
    while (i < end) {
      if (allowRepeats && values[i] === values[i + 1] && repeatsAt(values, i, end) >= 8) break;
      i += 8;
    }
    writePacked(out, values, from, Math.min(i, end), width);
  }
}

/**
 * Definition levels of an OPTIONAL column page (0 = null, 1 = value), width 1, with the 4-byte
 * length prefix of DataPage V1. `nulls === 0`: one RLE run, without looking at the levels.
 */
export function encodeDefinitionLevels(out: Bytes, defs: Uint8Array, start: number, end: number, nulls: number): void {
  const lengthAt = out.length;
  out.u32(0);
  if (nulls === 0) writeRepeat(out, 1, end - start, 1);
  else encodeHybrid(out, defs, start, end, 1);
  out.view.setUint32(lengthAt, out.length - lengthAt - 4, true);
}
