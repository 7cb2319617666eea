/**
 * Sorts a run's row numbers (a permutation) by its key columns without a comparator call per
 * comparison where it can: an MSD pass per key, each a stable LSD radix sort on order-preserving
 * 32-bit words (doubles with their sign flipped, 64/128/256-bit values by word, strings 6 bytes at
 * a time), then NULLs moved to their side; rows still tied go on to the next key (strings: the
 * next 6 bytes). Small ranges and keys without words (locale strings, generic values) fall back
 * to the ordering's comparator, in a stable sort. The result is exactly the order of
 * `SortOrdering.compare` with ties in input order, which the merge relies on.
 */
import type { KeyColumn, KeySet, RowComparator } from './sort-keys.ts';
import type { ResolvedSortKey } from './sort-key-spec.ts';

/** Ranges this short are sorted by comparator (insertion sort): radix passes cost more. */
const SMALL = 24;
/** Bits of one radix digit: 16 for big ranges, 8 where clearing 65536 counters would cost more than the rows. */
const WIDE = 16;
const NARROW = 8;
const WIDE_FROM = 1 << 12;

type BytesKey = Extract<KeyColumn, { kind: 'bytes' }>;

/** Scratch arrays reused across ranges (grown on demand). */
class Scratch {
  count = new Uint32Array(1 << WIDE);
  idx = new Uint32Array(0);
  tmp = new Uint32Array(0);
  words = new Uint32Array(0);
  rows = new Uint32Array(0);
  ensure(n: number, words: number): void {
    if (this.idx.length < n) {
      this.idx = new Uint32Array(n);
      this.tmp = new Uint32Array(n);
      this.rows = new Uint32Array(n);
    }
    if (this.words.length < n * words) this.words = new Uint32Array(n * words);
  }
}

const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);
const LITTLE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const LO = LITTLE ? 0 : 1;
const HI = LITTLE ? 1 : 0;

/** Order-preserving 32-bit words per row of key `col` (0: not radix-sortable). */
function wordsOf(col: KeyColumn): number {
  switch (col.kind) {
    case 'num':
      return 2;
    case 'words':
      return col.w.length;
    case 'bytes':
      return 2;
    default:
      return 0;
  }
}

/**
 * Fills `out` (row-major, `words` per local row, most significant first) with the order-preserving
 * words of key `col` for `rows[0..n)`; NULL rows get zeros (they are moved aside afterwards).
 * Returns true when a string in the range goes on past this depth's 6 bytes.
 */
function fillWords(
  col: KeyColumn,
  dir: 1 | -1,
  rows: Uint32Array,
  n: number,
  depth: number,
  out: Uint32Array,
): boolean {
  const nulls = col.nulls;
  const flip = dir === 1 ? 0 : 0xffffffff;
  let longer = false;
  if (col.kind === 'num') {
    const v = col.v;
    for (let i = 0; i < n; i++) {
      const r = rows[i]!;
      let hi = 0;
      let lo = 0;
      if (nulls === undefined || nulls[r] !== 1) {
        const x = v[r]!;
        if (x !== x) {
          hi = 0xfff80000; // every NaN one NaN, above +Infinity
        } else {
          f64[0] = x === 0 ? 0 : x; // -0 = +0
          hi = u32[HI]!;
          lo = u32[LO]!;
          if (hi & 0x80000000) {
            hi = ~hi >>> 0;
            lo = ~lo >>> 0;
          } else hi = (hi | 0x80000000) >>> 0;
        }
        hi = (hi ^ flip) >>> 0;
        lo = (lo ^ flip) >>> 0;
      }
      out[2 * i] = hi;
      out[2 * i + 1] = lo;
    }
  } else if (col.kind === 'words') {
    const w = col.w;
    const m = w.length;
    // the first word is signed (shift it to unsigned order) unless the column is unsigned, which
    // a word >= 2^31 shows; below 2^31 the shift keeps the order of both
    let shift = 0x80000000;
    const top = w[0]!;
    for (let i = 0; i < n; i++) if (top[rows[i]!]! >= 0x80000000) shift = 0;
    for (let i = 0; i < n; i++) {
      const r = rows[i]!;
      const isNull = nulls !== undefined && nulls[r] === 1;
      for (let q = 0; q < m; q++) {
        const x = isNull ? 0 : q === 0 ? (top[r]! + shift) >>> 0 : w[q]![r]! >>> 0;
        out[i * m + q] = isNull ? 0 : (x ^ flip) >>> 0;
      }
    }
  } else {
    const { off, bytes } = col as BytesKey;
    const start = depth * 6;
    for (let i = 0; i < n; i++) {
      const r = rows[i]!;
      let hi = 0;
      let lo = 0;
      if (nulls === undefined || nulls[r] !== 1) {
        const s = off[r]! + start;
        const e = off[r + 1]!;
        const len = e - s;
        if (len > 6) longer = true;
        // 6 bytes, zero padded: two bytes in the high word, four in the low
        hi = ((len > 0 ? bytes[s]! << 8 : 0) | (len > 1 ? bytes[s + 1]! : 0)) >>> 0;
        lo =
          (((len > 2 ? bytes[s + 2]! : 0) << 24) |
            ((len > 3 ? bytes[s + 3]! : 0) << 16) |
            ((len > 4 ? bytes[s + 4]! : 0) << 8) |
            (len > 5 ? bytes[s + 5]! : 0)) >>>
          0;
        hi = (hi ^ (flip & 0xffff)) >>> 0;
        lo = (lo ^ flip) >>> 0;
      }
      out[2 * i] = hi;
      out[2 * i + 1] = lo;
    }
  }
  return longer;
}

/** Stable LSD radix sort of local rows `idx[0..n)` by their `m` words in `words`. */
function radix(s: Scratch, n: number, m: number): void {
  let idx = s.idx;
  let tmp = s.tmp;
  const words = s.words;
  const bits = n >= WIDE_FROM ? WIDE : NARROW;
  const buckets = 1 << bits;
  const mask = buckets - 1;
  const count = s.count.subarray(0, buckets);
  for (let i = 0; i < n; i++) idx[i] = i;
  for (let q = m - 1; q >= 0; q--) {
    for (let shift = 0; shift < 32; shift += bits) {
      count.fill(0);
      for (let i = 0; i < n; i++) count[(words[i * m + q]! >>> shift) & mask]!++;
      // a digit every row shares orders nothing: skip the pass
      if (count[(words[q]! >>> shift) & mask] === n) continue;
      let sum = 0;
      for (let d = 0; d < buckets; d++) {
        const c = count[d]!;
        count[d] = sum;
        sum += c;
      }
      for (let i = 0; i < n; i++) {
        const local = idx[i]!;
        tmp[count[(words[local * m + q]! >>> shift) & mask]!++] = local;
      }
      const t = idx;
      idx = tmp;
      tmp = t;
    }
  }
  s.idx = idx;
  s.tmp = tmp;
}

/** Sorts a permutation of row numbers by the keys; see the module comment. */
export class RunSorter {
  readonly #specs: readonly ResolvedSortKey[];
  readonly #compare: RowComparator;
  readonly #scratch = new Scratch();
  #keys: KeySet = [];
  #perm = new Uint32Array(0);

  /** @param specs the keys, in order; @param compare the full comparator of the same keys */
  constructor(specs: readonly ResolvedSortKey[], compare: RowComparator) {
    this.#specs = specs;
    this.#compare = compare;
  }

  /** Rows `0..n)` of `keys` in sorted order (stable). */
  sort(keys: KeySet, n: number): Uint32Array {
    this.#keys = keys;
    const perm = new Uint32Array(n);
    for (let i = 0; i < n; i++) perm[i] = i;
    this.#perm = perm;
    this.#range(0, n, 0, 0);
    this.#keys = [];
    this.#perm = new Uint32Array(0);
    return perm;
  }

  /** Sorts `perm[lo..hi)`, whose rows are equal on keys before `k` (and on `depth` * 6 bytes of key `k`). */
  #range(lo: number, hi: number, k: number, depth: number): void {
    const n = hi - lo;
    if (n < 2 || k >= this.#specs.length) return;
    if (n <= SMALL) return this.#insertion(lo, hi);
    const col = this.#keys[k]!;
    const m = wordsOf(col);
    if (m === 0) return this.#byCompare(lo, hi);
    const s = this.#scratch;
    s.ensure(n, m);
    const perm = this.#perm;
    const rows = s.rows;
    for (let i = 0; i < n; i++) rows[i] = perm[lo + i]!;
    const spec = this.#specs[k]!;
    const longer = fillWords(col, spec.dir, rows, n, depth, s.words);
    radix(s, n, m);
    // place rows in word order, NULLs stably to their side
    const nulls = col.nulls;
    const idx = s.idx;
    let nullCount = 0;
    if (nulls !== undefined) for (let i = 0; i < n; i++) nullCount += nulls[rows[i]!]!;
    const first = spec.nulls === -1;
    let at = lo + (first ? nullCount : 0);
    let nullAt = first ? lo : hi - nullCount;
    const order = s.tmp; // local rows in final order (idx is read from, tmp is free)
    for (let i = 0; i < n; i++) {
      const local = idx[i]!;
      const r = rows[local]!;
      if (nullCount > 0 && nulls![r] === 1) {
        order[nullAt - lo] = local;
        perm[nullAt++] = r;
      } else {
        order[at - lo] = local;
        perm[at++] = r;
      }
    }
    // ties: groups equal on this key's words (and nullness) go on
    const groups: number[] = [];
    const words = s.words;
    let start = 0;
    for (let i = 1; i <= n; i++) {
      if (i < n && this.#sameWords(words, order[start]!, order[i]!, m, rows, nulls)) continue;
      if (i - start > 1)
        groups.push(lo + start, lo + i, nulls !== undefined && nulls[rows[order[start]!]!] === 1 ? 1 : 0);
      start = i;
    }
    for (let g = 0; g < groups.length; g += 3) {
      const a = groups[g]!;
      const b = groups[g + 1]!;
      if (col.kind === 'bytes' && groups[g + 2] === 0) {
        // equal on these 6 bytes: the next 6 decide, or the lengths and later keys (comparator)
        if (longer) this.#range(a, b, k, depth + 1);
        else this.#byCompare(a, b);
      } else this.#range(a, b, k + 1, 0);
    }
  }

  #sameWords(
    words: Uint32Array,
    x: number,
    y: number,
    m: number,
    rows: Uint32Array,
    nulls: Uint8Array | undefined,
  ): boolean {
    for (let q = 0; q < m; q++) if (words[x * m + q] !== words[y * m + q]) return false;
    return nulls === undefined || nulls[rows[x]!] === nulls[rows[y]!];
  }

  /** Stable insertion sort of `perm[lo..hi)` by the full comparator. */
  #insertion(lo: number, hi: number): void {
    const perm = this.#perm;
    const keys = this.#keys;
    const compare = this.#compare;
    for (let i = lo + 1; i < hi; i++) {
      const r = perm[i]!;
      let j = i - 1;
      while (j >= lo && compare(keys, perm[j]!, keys, r) > 0) {
        perm[j + 1] = perm[j]!;
        j--;
      }
      perm[j + 1] = r;
    }
  }

  /** Stable comparator sort of `perm[lo..hi)` (Array.prototype.sort is stable). */
  #byCompare(lo: number, hi: number): void {
    if (hi - lo <= SMALL) return this.#insertion(lo, hi);
    const perm = this.#perm;
    const keys = this.#keys;
    const compare = this.#compare;
    const list = Array.from(perm.subarray(lo, hi));
    list.sort((x, y) => compare(keys, x, keys, y));
    perm.set(list, lo);
  }
}
