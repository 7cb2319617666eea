/**
 * Group ids of multi-column keys: an open-addressing hash table (linear probing, load at most
 * one half) over tuples of key-dictionary codes, held in Int32Arrays. A group's codes are stored
 * column by column, so the table holds no object per group and the collector has nothing to
 * trace; growing rehashes from the stored codes.
 */
import { fmix } from './hash-mix.ts';

const EMPTY = -1;

/** One murmur3 round: folds code `k` into hash `h`. */
function step(h: number, k: number): number {
  k = Math.imul(k, 0xcc9e2d51);
  k = (k << 15) | (k >>> 17);
  h ^= Math.imul(k, 0x1b873593);
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

/** Group ids for tuples of `width` codes. */
export class GroupIndex {
  readonly width: number;
  /** Codes of each group, one array per key column (valid up to {@link GroupIndex.size}). */
  codes: Int32Array[];
  #slots: Int32Array;
  #mask: number;
  /** Groups held. */
  size = 0;

  /** @param capacity groups held before the first growth (rounded up to a power of two) */
  constructor(width: number, capacity = 1024) {
    capacity = 2 ** Math.ceil(Math.log2(Math.max(1024, capacity)));
    this.width = width;
    this.codes = Array.from({ length: width }, () => new Int32Array(capacity));
    this.#slots = new Int32Array(capacity * 2).fill(EMPTY);
    this.#mask = capacity * 2 - 1;
  }

  /** Bytes a group takes in an index of `width` key columns (a code per column, two slots). */
  static bytesPerGroup(width: number): number {
    return 8 + 4 * width;
  }

  /** Estimated bytes held. */
  get bytes(): number {
    return this.#slots.byteLength + this.width * this.codes[0]!.byteLength;
  }

  /** The group id of row `i` of `rowCodes` (one code array per column); a new id when it is new. */
  find(rowCodes: readonly Int32Array[], i: number): number {
    const width = this.width;
    let h = 0x811c9dc5;
    for (let c = 0; c < width; c++) h = step(h, rowCodes[c]![i]!);
    h = fmix(h);
    const slots = this.#slots;
    const mask = this.#mask;
    const codes = this.codes;
    let s = h & mask;
    for (;;) {
      const g = slots[s]!;
      if (g === EMPTY) break;
      let same = true;
      for (let c = 0; c < width; c++) {
        if (codes[c]![g] !== rowCodes[c]![i]) {
          same = false;
          break;
        }
      }
      if (same) return g;
      s = (s + 1) & mask;
    }
    const g = this.size++;
    if (g >= codes[0]!.length) {
      this.#grow();
      return this.#insertNew(g, rowCodes, i);
    }
    for (let c = 0; c < width; c++) codes[c]![g] = rowCodes[c]![i]!;
    slots[s] = g;
    return g;
  }

  #insertNew(g: number, rowCodes: readonly Int32Array[], i: number): number {
    for (let c = 0; c < this.width; c++) this.codes[c]![g] = rowCodes[c]![i]!;
    this.#place(g);
    return g;
  }

  #place(g: number): void {
    const codes = this.codes;
    let h = 0x811c9dc5;
    for (let c = 0; c < this.width; c++) h = step(h, codes[c]![g]!);
    h = fmix(h);
    let s = h & this.#mask;
    while (this.#slots[s] !== EMPTY) s = (s + 1) & this.#mask;
    this.#slots[s] = g;
  }

  #grow(): void {
    const capacity = this.codes[0]!.length * 2;
    this.codes = this.codes.map((old) => {
      const next = new Int32Array(capacity);
      next.set(old);
      return next;
    });
    this.#slots = new Int32Array(capacity * 2).fill(EMPTY);
    this.#mask = capacity * 2 - 1;
    // the group being inserted (size - 1) is placed by the caller
    for (let g = 0; g < this.size - 1; g++) this.#place(g);
  }
}
