/**
 * One key column of a group table: each distinct value (under SQL grouping equality) gets a
 * dense code, so that a group is a tuple of small integers instead of a trie of Maps or an
 * encoded string. Equality is the trie's canonical form (key-trie.ts `canonicalKey`): NaN equals
 * NaN, -0 equals 0, a bigint equals the same safe integer, null equals undefined. The value kept
 * for a code is the first one seen, which is what the output shows.
 *
 * Also the seeded hash of a key value that picks a spill partition ({@link hashKey}): it must
 * depend only on the value (codes differ from table to table), and equal values must hash alike.
 *
 * A string coded from an Arrow column's ASCII bytes, or from a spilled chunk's bytes, is held as
 * those bytes only: its JS string is made when the value is first read ({@link KeyDictionary.value},
 * the output), so a million unique keys that spill are never decoded before they are output, and
 * the table holds no string object per group while it fills.
 */
import { estimateValueBytes } from '../core/batch.ts';
import { canonicalKey, TRIE_ENTRY_BYTES } from './key-trie.ts';
import { NumberCodes } from './number-codes.ts';
import { StringCodes, hashString, hashUtf8 } from './string-codes.ts';
import { fmix } from './hash-mix.ts';
import { nanosOf } from '../formats/values.ts';

const MARK_CODE = 0xdfff;
const MIN_SAFE = BigInt(Number.MIN_SAFE_INTEGER);
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);

/** The canonical form of a key value (a string that is its own form skips the call). */
export function canonical(value: unknown): unknown {
  return typeof value === 'string' && value.charCodeAt(0) !== MARK_CODE ? value : canonicalKey(value);
}

/**
 * Dense codes for the distinct values of one key column. Numbers (safe integers, bigints in the
 * safe range, which equal them, and non-integers) and Dates without nanoseconds are coded by
 * value in typed tables (number-codes.ts), one for numbers and one for Dates' milliseconds;
 * well-formed strings by their UTF-8 bytes (string-codes.ts), which an Arrow Utf8 column codes
 * without decoding a value it has seen; everything else by its canonical form in a Map.
 */
export class KeyDictionary {
  readonly #codes = new Map<unknown, number>();
  readonly #numbers = new NumberCodes();
  readonly #dates = new NumberCodes();
  readonly #strings = new StringCodes();
  #nullCode = -1;
  #bytes = 0;
  /** The first value seen of each code (null for the null code; undefined for a string not yet decoded). */
  readonly #values: unknown[] = [];
  /** Per code, its entry in the string table plus one (0: not coded by UTF-8 bytes). */
  #entries = new Int32Array(1024);

  /** Distinct values the column is expected to reach (0: unknown): its tables, once large, grow to it at once (hash-mix.ts `nextCapacity`). */
  expect(values: number): void {
    this.#numbers.expected = values;
    this.#dates.expected = values;
    this.#strings.expected = values;
  }

  /** Estimated bytes held (table entries and values). */
  get bytes(): number {
    return this.#bytes + this.#entries.byteLength + this.#numbers.bytes + this.#dates.bytes + this.#strings.bytes;
  }

  /** Bytes the dictionary's code tables would add should `more` new values come now (0 when they fit). */
  growthBytes(more: number): number {
    return this.#numbers.growthBytes(more) + this.#dates.growthBytes(more) + this.#strings.growthBytes(more);
  }

  /** Distinct values held. */
  get size(): number {
    return this.#values.length;
  }

  /** The first value seen of code `code` (a string held as bytes is decoded now, once). */
  value(code: number): unknown {
    const value = this.#values[code];
    if (value !== undefined) return value;
    const text = this.#strings.text(this.#entries[code]! - 1);
    this.#values[code] = text;
    return text;
  }

  /** The string table entry of code `code`, or -1 when it is not coded by UTF-8 bytes. */
  textEntry(code: number): number {
    return code < this.#entries.length ? this.#entries[code]! - 1 : -1;
  }

  /** Per code, its string table entry plus one (0: not text), up to {@link KeyDictionary.size} (for loops: see {@link textEntry}). */
  get textEntries(): Int32Array {
    return this.#entries;
  }

  /** The string table: {@link StringCodes.arena} and {@link StringCodes.starts} give an entry's bytes. */
  get strings(): StringCodes {
    return this.#strings;
  }

  /** The code of `value`, a new one when it is not held yet. */
  code(value: unknown): number {
    switch (typeof value) {
      case 'number':
        if (!Number.isInteger(value) || Number.isSafeInteger(value)) return this.#byNumber(this.#numbers, value, value);
        break;
      case 'bigint':
        if (value >= MIN_SAFE && value <= MAX_SAFE) return this.#byNumber(this.#numbers, Number(value), value);
        break;
      case 'object':
        if (value instanceof Date && nanosOf(value) === 0) return this.#byNumber(this.#dates, value.getTime(), value);
        break;
      case 'string': {
        // a lone surrogate (the canonical forms' mark among them) has no UTF-8 form: the Map
        const next = this.#values.length;
        const c = this.#strings.codeOfString(value, next);
        if (c === next) {
          this.#held(value);
          this.#entryOf(c, this.#strings.size - 1);
        }
        if (c >= 0) return c;
      }
    }
    const key = typeof value === 'string' && value.charCodeAt(0) !== MARK_CODE ? value : canonicalKey(value);
    if (key === null) {
      if (this.#nullCode < 0) {
        this.#nullCode = this.#values.length;
        this.#values.push(null);
        this.#bytes += 8;
      }
      return this.#nullCode;
    }
    let c = this.#codes.get(key);
    if (c === undefined) {
      c = this.#values.length;
      this.#codes.set(key, c);
      this.#values.push(value);
      this.#bytes += TRIE_ENTRY_BYTES + 8 + estimateValueBytes(value, 1) + (key === value ? 0 : 24);
    }
    return c;
  }

  /** The code of `value` by its number `key` in `table` (a new code when it is new). */
  #byNumber(table: NumberCodes, key: number, value: unknown): number {
    const next = this.#values.length;
    const c = table.codeOf(key, next);
    if (c === next) this.#held(value);
    return c;
  }

  /** Keeps `value` as the value of the next code. */
  #held(value: unknown): void {
    this.#values.push(value);
    this.#bytes += 8 + estimateValueBytes(value, 1);
  }

  /** Notes that code `code` is string table entry `entry`. */
  #entryOf(code: number, entry: number): void {
    if (code >= this.#entries.length) {
      const next = new Int32Array(Math.max(code + 1, this.#entries.length * 2));
      next.set(this.#entries);
      this.#entries = next;
    }
    this.#entries[code] = entry + 1;
  }

  /** The code of the UTF-8 text in bytes `s..e-1` (hash `h`, string-codes.ts `hashUtf8`), or -1 when not held yet. */
  findUtf8(bytes: Uint8Array, s: number, e: number, h: number): number {
    return this.#strings.find(bytes, s, e, h);
  }

  /**
   * The code of `value`, decoded from bytes `s..e-1` (hash `h`) that {@link findUtf8} did not
   * find. Bytes that are not valid UTF-8 decode with U+FFFD: such a value is coded as the string
   * it decodes to, so that it equals that string (as rows show it).
   */
  addUtf8(bytes: Uint8Array, s: number, e: number, h: number, value: string): number {
    if (value.includes('\ufffd')) return this.code(value);
    const code = this.#values.length;
    this.#entryOf(code, this.#strings.insert(bytes, s, e, h, code));
    this.#held(value);
    return code;
  }

  /**
   * A new code for well-formed UTF-8 bytes `s..e-1` (hash `h`) that {@link findUtf8} did not find,
   * held as bytes: the string is decoded when {@link value} first reads it.
   */
  addUtf8Bytes(bytes: Uint8Array, s: number, e: number, h: number): number {
    const code = this.#values.length;
    this.#entryOf(code, this.#strings.insert(bytes, s, e, h, code));
    this.#values.push(undefined);
    this.#bytes += 8;
    return code;
  }

  /** The code of well-formed UTF-8 bytes `s..e-1` (a new one, held as bytes, when they are new). */
  codeUtf8(bytes: Uint8Array, s: number, e: number): number {
    const h = hashUtf8(bytes, s, e);
    const code = this.#strings.find(bytes, s, e, h);
    return code >= 0 ? code : this.addUtf8Bytes(bytes, s, e, h);
  }

  /** The hash of every code's value under `seed` (see {@link hashKey}). */
  hashes(seed: number): Int32Array {
    const out = new Int32Array(this.#values.length);
    for (let c = 0; c < out.length; c++) {
      const entry = this.textEntry(c);
      out[c] =
        entry >= 0
          ? seededTextHash(this.#strings.hashOf(entry), seed)
          : hashCanonical(canonical(this.#values[c]), seed);
    }
    return out;
  }
}

/** A text hash (string-codes.ts `hashUtf8`) under `seed`. */
export function seededTextHash(h: number, seed: number): number {
  return fmix(h ^ Math.imul(seed + 1, 0x9e3779b1));
}

/**
 * The seeded hash of a key value that picks its spill partition, as {@link KeyDictionary.hashes}
 * gives it for the value's code: a well-formed string by its UTF-8 bytes, anything else by its
 * canonical form ({@link hashCanonical}).
 */
export function hashKey(value: unknown, seed: number): number {
  if (typeof value === 'string') {
    const h = hashString(value);
    if (h !== undefined) return seededTextHash(h, seed);
  }
  return hashCanonical(canonical(value), seed);
}

/** A seeded 32-bit hash of a canonical key value (strings by UTF-16 code unit, numbers by their bits). */
export function hashCanonical(key: unknown, seed: number): number {
  let h = (0x811c9dc5 ^ Math.imul(seed + 1, 0x9e3779b1)) | 0;
  if (typeof key === 'string') {
    for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
    return fmix(h ^ key.length);
  }
  if (typeof key === 'number') {
    // SameValueZero: every NaN and both zeros must hash alike
    f64[0] = key === 0 ? 0 : Number.isNaN(key) ? Number.NaN : key;
    h = Math.imul(h ^ u32[0]!, 0x01000193);
    h = Math.imul(h ^ u32[1]!, 0x01000193);
    return fmix(h ^ 0x5bd1e995);
  }
  if (key === null) return fmix(h ^ 0x27d4eb2f);
  return fmix(h ^ (key === true ? 0x165667b1 : 0x3c6ef372));
}

/** Combines the hashes of several key columns into one. */
export function combineHashes(h: number, next: number): number {
  return fmix(Math.imul(h ^ next, 0x01000193) + 0x9e3779b9);
}
