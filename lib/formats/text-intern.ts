/**
 * Short ASCII strings decoded once per distinct value. Columns of symbols, codes and flags repeat
 * a few hundred values over millions of rows: decoding each cell makes a new string (a native call
 * and an allocation the young generation must sweep); looking its bytes up in a small table of
 * the strings seen last returns the same string object. A column of unique values (ids, prices
 * read as text) gains nothing and keeps strings alive longer, so a reader probes each column's
 * first {@link INTERN_PROBE} lookups and stops interning it when fewer than half hit
 * ({@link InternProbe}).
 */

/** Values up to this many bytes are looked up. */
export const INTERN_MAX = 16;
const SLOTS = 4096;
/** Lookups before a column's interning is decided. */
export const INTERN_PROBE = 1024;

interface NativeSlices {
  latin1Slice(start: number, end: number): string;
}

/** A table of recent short strings, shared by the columns of one reader (4096 slots, 32 KB). */
export class InternTable {
  readonly #slots: (string | undefined)[] = new Array<string | undefined>(SLOTS).fill(undefined);
  /** Whether the last {@link InternTable.ascii} found its string in the table. */
  hit = false;

  /**
   * The string of bytes `buf[s..e)` (at most {@link INTERN_MAX}; the caller checks), when they are
   * ASCII: the same object as the last time these bytes hashed to the same slot, or a new one
   * stored in its place. Undefined when a byte is not ASCII (decode it as UTF-8 instead).
   */
  ascii(buf: Buffer, s: number, e: number): string | undefined {
    let h = e - s;
    let high = 0;
    for (let k = s; k < e; k++) {
      const b = buf[k]!;
      high |= b;
      h = (Math.imul(h, 31) + b) | 0;
    }
    if (high > 127) return undefined;
    const slot = (h ^ (h >>> 11)) & (SLOTS - 1);
    const stored = this.#slots[slot];
    if (stored !== undefined && stored.length === e - s) {
      let k = 0;
      while (k < stored.length && stored.charCodeAt(k) === buf[s + k]) k++;
      this.hit = k === stored.length;
      if (this.hit) return stored;
    }
    this.hit = false;
    const text = (buf as unknown as NativeSlices).latin1Slice(s, e);
    this.#slots[slot] = text;
    return text;
  }
}

/** One column's interning decision: probing, then on or off for good. */
export class InternProbe {
  #tries = 0;
  #hits = 0;
  /** Interning is on (until the probe says the column does not repeat). */
  active = true;

  /** Counts one lookup of the column. */
  count(hit: boolean): void {
    if (this.#tries >= INTERN_PROBE) return;
    if (hit) this.#hits++;
    if (++this.#tries === INTERN_PROBE) this.active = this.#hits * 2 >= INTERN_PROBE;
  }
}
