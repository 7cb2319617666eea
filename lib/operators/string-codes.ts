/**
 * Codes of strings by their UTF-8 bytes, for a key dictionary (key-dictionary.ts): an
 * open-addressing hash table (linear probing, load at most one half) over one byte arena. An
 * Arrow Utf8 key column is coded straight from its bytes (a value seen before costs a hash and a
 * compare, no decoded string), and a JS string from rows or a spilled chunk is encoded to the
 * same bytes first, so both paths give one code per string. A Map keyed by strings held an entry
 * and a hashed string per value: for a column of unique timestamps (a group by symbol and time,
 * 1M groups) its inserts were the largest cost of the group table.
 *
 * Only well-formed text is held here: a string with a lone surrogate has no UTF-8 form (it would
 * meet U+FFFD), so {@link encodeUtf8} refuses it and the dictionary keys it otherwise; Arrow bytes
 * that are not valid UTF-8 decode with U+FFFD, and the caller codes the decoded string instead.
 */
import { fmix, nextCapacity, slotTag } from './hash-mix.ts';

const EMPTY = -1;

/** The bytes of every word {@link hashUtf8} last read, OR-ed together (see {@link hashedAscii}). */
let high = 0;

/**
 * FNV-1a over bytes `s..e-1`, four bytes (a little-endian word) a step and then the last ones,
 * finished by murmur3's mix (every input bit then reaches the low bits a table masks). It notes
 * whether the bytes were ASCII ({@link hashedAscii}), so that a caller needs no second pass over
 * them: on 24-byte timestamps, byte steps and a separate ASCII pass took about 70 ns, this 30.
 */
export function hashUtf8(bytes: Uint8Array, s: number, e: number): number {
  let h = 0x811c9dc5 ^ (e - s);
  let or = 0;
  let p = s;
  for (const last = e - 3; p < last; p += 4) {
    const word = bytes[p]! | (bytes[p + 1]! << 8) | (bytes[p + 2]! << 16) | (bytes[p + 3]! << 24);
    or |= word;
    h = Math.imul(h ^ word, 0x01000193);
  }
  for (; p < e; p++) {
    or |= bytes[p]!;
    h = Math.imul(h ^ bytes[p]!, 0x01000193);
  }
  high = or;
  return fmix(h);
}

/** True when the bytes the last {@link hashUtf8} call hashed were all ASCII (below 0x80). */
export function hashedAscii(): boolean {
  return (high & 0x80808080) === 0;
}

/**
 * Writes the UTF-8 bytes of `value` to `out` (room for 3 bytes per code unit); their length, or
 * -1 when `value` holds a lone surrogate.
 */
export function encodeUtf8(value: string, out: Uint8Array): number {
  const n = value.length;
  let at = 0;
  for (let i = 0; i < n; i++) {
    let c = value.charCodeAt(i);
    if (c < 0x80) out[at++] = c;
    else if (c < 0x800) {
      out[at++] = 0xc0 | (c >> 6);
      out[at++] = 0x80 | (c & 63);
    } else if (c >= 0xd800 && c <= 0xdfff) {
      const d = i + 1 < n ? value.charCodeAt(i + 1) : 0;
      if (c > 0xdbff || d < 0xdc00 || d > 0xdfff) return -1;
      i++;
      c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
      out[at++] = 0xf0 | (c >> 18);
      out[at++] = 0x80 | ((c >> 12) & 63);
      out[at++] = 0x80 | ((c >> 6) & 63);
      out[at++] = 0x80 | (c & 63);
    } else {
      out[at++] = 0xe0 | (c >> 12);
      out[at++] = 0x80 | ((c >> 6) & 63);
      out[at++] = 0x80 | (c & 63);
    }
  }
  return at;
}

/** Below this many bytes a loop copies faster than `set` of a `subarray` (an object per call). */
const LOOP_COPY = 64;

/** Copies `from[s..e)` to `to` at `at`. */
export function copyBytes(from: Uint8Array, s: number, e: number, to: Uint8Array, at: number): void {
  if (e - s < LOOP_COPY) for (let k = s; k < e; k++) to[at++] = from[k]!;
  else to.set(from.subarray(s, e), at);
}

/** A UTF-8 bytes -> code table; codes are the caller's (a dictionary's dense codes). */
export class StringCodes {
  #arena = new Uint8Array(4096);
  #used = 0;
  /** Entry `e`'s bytes are `arena[starts[e] .. starts[e + 1])`. */
  #starts = new Int32Array(257);
  #codes = new Int32Array(256);
  #hashes = new Int32Array(256);
  /** Per slot: EMPTY, or an entry in the low {@link StringCodes.#bits} bits under its hash's tag (hash-mix.ts `slotTag`). */
  #slots = new Int32Array(512).fill(EMPTY);
  /** log2 of the entries there is room for (`#codes.length`). */
  #bits = 8;
  #size = 0;
  /** Scratch for encoding JS strings. */
  #scratch = new Uint8Array(256);
  /** A Buffer over the arena, for decoding (made again when the arena grows). */
  #view: Buffer | undefined;
  /** Entries the table is expected to reach (0: unknown; hash-mix.ts `nextCapacity`). */
  expected = 0;

  /** @param expected entries the table is expected to reach */
  constructor(expected = 0) {
    this.expected = expected;
  }

  /** Bytes of the typed arrays held. */
  get bytes(): number {
    return (
      this.#arena.byteLength +
      this.#starts.byteLength +
      this.#codes.byteLength +
      this.#hashes.byteLength +
      this.#slots.byteLength
    );
  }

  /**
   * Bytes a growth of the entry tables would add should `more` new entries come now (they at
   * least double; the arena grows with the bytes themselves), or 0 when they fit.
   */
  growthBytes(more: number): number {
    return this.#size + more > this.#codes.length ? this.bytes - this.#arena.byteLength : 0;
  }

  /** The code of bytes `s..e-1` of `bytes` (hash `h`, by {@link hashUtf8}), or -1 when not held. */
  find(bytes: Uint8Array, s: number, e: number, h: number): number {
    const slots = this.#slots;
    const mask = slots.length - 1;
    const starts = this.#starts;
    const arena = this.#arena;
    const len = e - s;
    const low = this.#codes.length - 1;
    const tag = slotTag(h, this.#bits);
    for (let at = h & mask; ; at = (at + 1) & mask) {
      const slot = slots[at]!;
      if (slot === EMPTY) return -1;
      if ((slot & ~low) !== tag) continue;
      // the tag matched: compare the bytes (a full-hash check here would be one more miss)
      const entry = slot & low;
      const from = starts[entry]!;
      if (starts[entry + 1]! - from !== len) continue;
      let k = 0;
      while (k < len && arena[from + k] === bytes[s + k]) k++;
      if (k === len) return this.#codes[entry]!;
    }
  }

  /** Holds bytes `s..e-1` of `bytes` (hash `h`; not held yet) under `code`; returns its entry. */
  insert(bytes: Uint8Array, s: number, e: number, h: number, code: number): number {
    const len = e - s;
    if (this.#used + len > this.#arena.length) {
      const next = new Uint8Array(Math.max(this.#arena.length * 2, this.#used + len));
      next.set(this.#arena.subarray(0, this.#used));
      this.#arena = next;
      this.#view = undefined;
    }
    copyBytes(bytes, s, e, this.#arena, this.#used);
    const entry = this.#size++;
    if (entry === this.#codes.length) this.#grow();
    this.#used += len;
    this.#starts[entry + 1] = this.#used;
    this.#codes[entry] = code;
    this.#hashes[entry] = h;
    this.#place(entry, h);
    return entry;
  }

  /** The string of entry `entry` (decoded from its bytes). */
  text(entry: number): string {
    this.#view ??= Buffer.from(this.#arena.buffer, this.#arena.byteOffset, this.#arena.byteLength);
    return this.#view.toString('utf8', this.#starts[entry]!, this.#starts[entry + 1]!);
  }

  /** The hash of entry `entry`'s bytes ({@link hashUtf8}). */
  hashOf(entry: number): number {
    return this.#hashes[entry]!;
  }

  /** Bytes of entry `entry`: `arena` from `start(entry)` to `start(entry + 1)`. */
  get arena(): Uint8Array {
    return this.#arena;
  }

  /** Where each entry's bytes start in {@link StringCodes.arena} (entry `e` ends where `e + 1` starts). */
  get starts(): Int32Array {
    return this.#starts;
  }

  /**
   * The code of the well-formed string `value`, or `next` after holding it under that code when
   * it is new; -1 when `value` holds a lone surrogate (not held here).
   */
  codeOfString(value: string, next: number): number {
    if (this.#scratch.length < 3 * value.length) this.#scratch = new Uint8Array(6 * value.length);
    const out = this.#scratch;
    const len = encodeUtf8(value, out);
    if (len < 0) return -1;
    const h = hashUtf8(out, 0, len);
    const code = this.find(out, 0, len, h);
    if (code >= 0) return code;
    this.insert(out, 0, len, h, next);
    return next;
  }

  /** Entries held (the last inserted is `size - 1`). */
  get size(): number {
    return this.#size;
  }

  #place(entry: number, h: number): void {
    const slots = this.#slots;
    const mask = slots.length - 1;
    let at = h & mask;
    while (slots[at] !== EMPTY) at = (at + 1) & mask;
    slots[at] = slotTag(h, this.#bits) | entry;
  }

  #grow(): void {
    const capacity = nextCapacity(this.#codes.length, this.expected);
    this.#bits = Math.log2(capacity);
    const starts = new Int32Array(capacity + 1);
    starts.set(this.#starts);
    this.#starts = starts;
    const codes = new Int32Array(capacity);
    codes.set(this.#codes);
    this.#codes = codes;
    const hashes = new Int32Array(capacity);
    hashes.set(this.#hashes);
    this.#hashes = hashes;
    this.#slots = new Int32Array(capacity * 2).fill(EMPTY);
    for (let entry = 0; entry < this.#size - 1; entry++) this.#place(entry, this.#hashes[entry]!);
  }
}

let stringScratch = new Uint8Array(256);

/** {@link hashUtf8} of the UTF-8 bytes of `value`; undefined when it holds a lone surrogate (no UTF-8 form). */
export function hashString(value: string): number | undefined {
  if (stringScratch.length < 3 * value.length) stringScratch = new Uint8Array(6 * value.length);
  const len = encodeUtf8(value, stringScratch);
  return len < 0 ? undefined : hashUtf8(stringScratch, 0, len);
}
