/**
 * Codes of numbers by value, for a key dictionary (key-dictionary.ts): an open-addressing hash
 * table (linear probing, load at most one half) over a Float64Array of keys. A Map keyed by
 * numbers boxes every key that is not a small integer (prices, epoch milliseconds) and holds an
 * entry object per key; here a key costs 20-40 bytes of typed arrays and no allocation, which
 * for a timestamp column of unique values (a group by symbol and time) was most of the time the
 * group table spent coding keys. Keys compare as SameValueZero does: -0 is 0, and every NaN is
 * one key.
 */
import { fmix, nextCapacity } from './hash-mix.ts';

const EMPTY = -1;
const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);

/** murmur3's finaliser over both words of the double. */
function hashOf(key: number): number {
  f64[0] = key;
  return fmix(Math.imul(u32[0]! ^ 0x9e3779b9, 0xcc9e2d51) ^ u32[1]!);
}

/** A number -> code table; codes are the caller's (a dictionary's dense codes). */
export class NumberCodes {
  #keys = new Float64Array(256);
  #codes = new Int32Array(256);
  #slots = new Int32Array(512).fill(EMPTY);
  #size = 0;
  #nanCode = EMPTY;
  /** Entries the table is expected to reach (0: unknown; hash-mix.ts `nextCapacity`). */
  expected = 0;

  /** @param expected entries the table is expected to reach */
  constructor(expected = 0) {
    this.expected = expected;
  }

  /** Bytes of the typed arrays held. */
  get bytes(): number {
    return this.#keys.byteLength + this.#codes.byteLength + this.#slots.byteLength;
  }

  /** Bytes a growth would add should `more` new keys come now (the table at least doubles), or 0 when they fit. */
  growthBytes(more: number): number {
    return this.#size + more > this.#keys.length ? this.bytes : 0;
  }

  /** The code of `key`, or `next` after storing it under that code when `key` is new. */
  codeOf(key: number, next: number): number {
    if (key !== key) {
      if (this.#nanCode === EMPTY) this.#nanCode = next;
      return this.#nanCode;
    }
    const k = key === 0 ? 0 : key;
    const slots = this.#slots;
    const keys = this.#keys;
    const mask = slots.length - 1;
    let s = hashOf(k) & mask;
    for (;;) {
      const e = slots[s]!;
      if (e === EMPTY) break;
      if (keys[e] === k) return this.#codes[e]!;
      s = (s + 1) & mask;
    }
    const e = this.#size++;
    if (e === keys.length) {
      this.#grow();
      this.#insert(e, k, next);
      return next;
    }
    keys[e] = k;
    this.#codes[e] = next;
    slots[s] = e;
    return next;
  }

  #insert(e: number, key: number, code: number): void {
    this.#keys[e] = key;
    this.#codes[e] = code;
    this.#place(e);
  }

  #place(e: number): void {
    const slots = this.#slots;
    const mask = slots.length - 1;
    let s = hashOf(this.#keys[e]!) & mask;
    while (slots[s] !== EMPTY) s = (s + 1) & mask;
    slots[s] = e;
  }

  #grow(): void {
    const capacity = nextCapacity(this.#keys.length, this.expected);
    const keys = new Float64Array(capacity);
    keys.set(this.#keys);
    const codes = new Int32Array(capacity);
    codes.set(this.#codes);
    this.#keys = keys;
    this.#codes = codes;
    this.#slots = new Int32Array(capacity * 2).fill(EMPTY);
    // the entry being inserted (size - 1) is placed by the caller
    for (let e = 0; e < this.#size - 1; e++) this.#place(e);
  }
}
