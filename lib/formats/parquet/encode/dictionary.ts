/**
 * Dictionary building for a byte-array column chunk, over the bytes themselves (no JS strings):
 * an open-addressing hash table of word-wise hashes ({@link hashBytes}) pointing at each distinct
 * value's first occurrence. Gives up (returns undefined) when the chunk does not look dictionary-friendly, so the
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
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
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
    const h = hashBytes(view, data, s, e);
    let slot = h & mask;
    let index = -1;
    for (;;) {
      const k = table[slot]!;
      if (k === 0) break;
      if (
        hashes[k - 1] === h &&
        ends[k - 1]! - starts[k - 1]! === e - s &&
        sameBytes(view, data, starts[k - 1]!, s, e - s)
      ) {
        index = k - 1;
        break;
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

/**
 * A hash of data[s, e): FNV-1a over 4-byte words then the last bytes, mixed (murmur3's finaliser)
 * so that the low bits the table uses depend on every byte. Only equal hashes are compared, never
 * their order: entries keep the order of first occurrence whatever the hash.
 */
function hashBytes(view: DataView, data: Uint8Array, s: number, e: number): number {
  let h = 0x811c9dc5 ^ (e - s);
  let p = s;
  for (; p + 4 <= e; p += 4) h = Math.imul(h ^ view.getInt32(p, true), 0x01000193);
  for (; p < e; p++) h = Math.imul(h ^ data[p]!, 0x01000193);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

/** True when data[a, a + len) and data[b, b + len) hold the same bytes (compared 4 at a time). */
function sameBytes(view: DataView, data: Uint8Array, a: number, b: number, len: number): boolean {
  let p = 0;
  for (; p + 4 <= len; p += 4) if (view.getInt32(a + p) !== view.getInt32(b + p)) return false;
  for (; p < len; p++) if (data[a + p] !== data[b + p]) return false;
  return true;
}

function grow(a: Int32Array, cap: number): Int32Array<ArrayBuffer> {
  const next = new Int32Array(cap);
  next.set(a);
  return next;
}
