/**
 * Dictionary building for a byte-array column chunk, over the bytes themselves (no JS strings):
 * an open-addressing hash table of FNV-1a hashes pointing at each distinct value's first
 * occurrence. Gives up (returns undefined) when the chunk does not look dictionary-friendly, so the
 * chunk is written PLAIN as a whole: parquetjs-lite applies a chunk's dictionary to all its pages,
 * so a chunk is either all dictionary or all PLAIN.
 */
import type { ColumnBuffer } from './column-buffer.ts';

/** A chunk's dictionary and the index of each non-null value. */
export interface Dictionary {
  /** Distinct values: entry k = data[starts[k], ends[k]). */
  count: number;
  starts: Int32Array;
  ends: Int32Array;
  /** Bytes of the dictionary page's PLAIN values. */
  plainBytes: number;
  /** One index per non-null value, in row order (valid until the next call). */
  indices: Int32Array;
}

/** Most entries a dictionary may have (indices then take at most 16 bits). */
export const MAX_DICTIONARY_ENTRIES = 1 << 16;
/** Most PLAIN bytes of a dictionary page. */
export const MAX_DICTIONARY_BYTES = 1 << 20;
/** After this many values, a dictionary holding more than half of them as entries is abandoned. */
const SAMPLE = 4096;

/** Index buffer reused from chunk to chunk (a dictionary is consumed synchronously, before the next is built). */
let scratch = new Int32Array(0);

/** Builds the dictionary of a byte-array column chunk, or undefined when PLAIN suits it better. */
export function buildDictionary(col: ColumnBuffer): Dictionary | undefined {
  const n = col.n;
  const data = col.data;
  const offsets = col.offsets;
  const defs = col.nullable && col.nulls > 0 ? col.defs : undefined;
  let size = 1024;
  let mask = size - 1;
  let table = new Int32Array(size);
  let cap = 256;
  let starts = new Int32Array(cap);
  let ends = new Int32Array(cap);
  let hashes = new Int32Array(cap);
  let count = 0;
  let plainBytes = 0;
  if (scratch.length < n - col.nulls) scratch = new Int32Array(Math.max(n - col.nulls, scratch.length * 2));
  const indices = scratch;
  let j = 0;
  for (let i = 0; i < n; i++) {
    if (defs !== undefined && defs[i] === 0) continue;
    const s = offsets[i]!;
    const e = offsets[i + 1]!;
    let h = 0x811c9dc5 ^ (e - s);
    for (let p = s; p < e; p++) h = Math.imul(h ^ data[p]!, 0x01000193);
    let slot = h & mask;
    let index = -1;
    for (;;) {
      const k = table[slot]!;
      if (k === 0) break;
      if (hashes[k - 1] === h) {
        const es = starts[k - 1]!;
        const len = ends[k - 1]! - es;
        if (len === e - s) {
          let p = 0;
          while (p < len && data[es + p] === data[s + p]) p++;
          if (p === len) {
            index = k - 1;
            break;
          }
        }
      }
      slot = (slot + 1) & mask;
    }
    if (index < 0) {
      index = count++;
      plainBytes += 4 + e - s;
      if (count > MAX_DICTIONARY_ENTRIES || plainBytes > MAX_DICTIONARY_BYTES) return undefined;
      if (count > cap) {
        cap *= 2;
        starts = grow(starts, cap);
        ends = grow(ends, cap);
        hashes = grow(hashes, cap);
      }
      starts[index] = s;
      ends[index] = e;
      hashes[index] = h;
      table[slot] = count;
      if (count * 2 > size) {
        size *= 2;
        mask = size - 1;
        table = new Int32Array(size);
        for (let k = 0; k < count; k++) {
          let t = hashes[k]! & mask;
          while (table[t] !== 0) t = (t + 1) & mask;
          table[t] = k + 1;
        }
      }
    }
    indices[j++] = index;
    if (j === SAMPLE && count * 2 > SAMPLE) return undefined;
  }
  // a dictionary that barely repeats does not pay for its page
  if (count * 2 > j && j >= 16) return undefined;
  return { count, starts, ends, plainBytes, indices: indices.subarray(0, j) };
}

function grow(a: Int32Array, cap: number): Int32Array<ArrayBuffer> {
  const next = new Int32Array(cap);
  next.set(a);
  return next;
}
