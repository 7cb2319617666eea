/**
 * Number keys -> group indexes in an open-addressing hash table on typed arrays: the join's table
 * for a one-column key whose canonical form is a number (key-trie.ts `canonicalKey`: numbers,
 * and bigints in the safe range). A JS Map of 500k number keys cost about 0.33 us a lookup in
 * the 1M x 500k bench join (its entries are scattered objects: several cache misses each); here
 * a lookup reads one slot of two flat arrays, about 0.08 us in a micro-benchmark.
 *
 * Equality is the Map's SameValueZero on canonical keys: -0 is 0, and every NaN is one key.
 *
 * Integer keys over a range at most {@link DENSE_RANGE} times their count (ids, surrogate keys,
 * dates as day numbers) are held by direct address, as DuckDB's perfect hash join does: slot
 * `key - base` of one Int32Array holds the key's group, 4 bytes a slot where the hash table takes
 * 12 a slot at twice the keys, and a lookup reads one slot with no hash and no key compared. The
 * bench's 2.5M-row right side (ids 0, 2, 4, ...) took 48-96 MB of hash table, 20-40 MB so. A key
 * that is not an integer, or that would leave the range sparser than that, moves the keys to the
 * hash table; when the hash table doubles and its keys are integers as dense as that (ids that
 * came in no order fill their range as they come), they move back.
 */

/** Slots of a new table: small, as a table is counted by its arrays (a partition's table may hold a few rows). */
const FIRST_SLOTS = 64;

/** Bytes of one slot (a key and a group). */
const SLOT_BYTES = 8 + 4;

/** Direct address holds keys whose range is at most this many times their count... */
const DENSE_RANGE = 4;
/** ...or at most this many slots (a few keys a little apart stay direct while they are few). */
const DENSE_MIN_SLOTS = 1024;
/** A direct-address array grows to at most this many slots a key (it doubles while under it). */
const DENSE_ROOM = 8;

const BITS = new Float64Array(1);
const WORDS = new Int32Array(BITS.buffer);

/** A well-mixed 32-bit hash of number `v` (-0 hashes as 0: `-0 | 0` is 0). */
function hashNumber(v: number): number {
  let h: number;
  if ((v | 0) === v) h = v;
  else {
    BITS[0] = v;
    h = WORDS[0]! ^ Math.imul(WORDS[1]!, 0x9e3779b1);
  }
  h = Math.imul(h ^ (h >>> 16), 0x45d9f3b);
  return h ^ (h >>> 16);
}

/** Number keys -> group indexes (>= 0); see the module comment. */
export class NumberIndex {
  /** Groups by `key - #base` while keys are held by direct address (see the module comment); undefined once hashed. */
  #dense: Int32Array | undefined = new Int32Array(0);
  #base = 0;
  /** Least and greatest key held, while every key is an integer (in the safe range). */
  #lo = 0;
  #hi = -1;
  #integers = true;
  #keys = new Float64Array(0);
  #groups = new Int32Array(0);
  /** The slot where the last {@link NumberIndex.find} stopped (its key's, or the empty one to insert at). */
  #slot = 0;
  #key = 0;
  /** Keys held. */
  size = 0;

  /** The group of `key`, or -1; remembers where the key is or goes, for {@link NumberIndex.insert}. */
  find(key: number): number {
    const dense = this.#dense;
    if (dense !== undefined) {
      this.#key = key;
      // an integer key in the array's range (NaN fails every test; a fraction near an integer can
      // round to an integer offset, so the key itself is tested; -0 - 0 is slot -0, which is slot 0)
      const o = key - this.#base;
      if (o >= 0 && o < dense.length && Math.trunc(key) === key) {
        this.#slot = o;
        return dense[o]!;
      }
      this.#slot = -1;
      return -1;
    }
    // SameValueZero: -0 === 0 (and hashes as 0); every NaN is one key (NaN !== NaN: its own test)
    const k = key;
    const keys = this.#keys;
    const groups = this.#groups;
    const mask = groups.length - 1;
    const nan = k !== k;
    let slot = hashNumber(nan ? Number.NaN : k) & mask;
    for (;;) {
      const group = groups[slot]!;
      if (group === -1) break;
      const stored = keys[slot]!;
      if (stored === k || (nan && stored !== stored)) {
        this.#slot = slot;
        return group;
      }
      slot = (slot + 1) & mask;
    }
    this.#slot = slot;
    this.#key = k;
    return -1;
  }

  /** Adds `group` for the key the last {@link NumberIndex.find} missed (see {@link NumberIndex.bytes} for its memory). */
  insert(group: number): void {
    if (this.#dense !== undefined) {
      const key = this.#key;
      if (this.#slot === -1 && !this.#widen(key)) {
        this.#hash();
        this.find(key);
        this.insert(group);
        return;
      }
      this.#dense![this.#slot] = group;
      const k = this.#base + this.#slot;
      if (this.size++ === 0) this.#lo = this.#hi = k;
      else if (k < this.#lo) this.#lo = k;
      else if (k > this.#hi) this.#hi = k;
      return;
    }
    const k = this.#key;
    this.#keys[this.#slot] = k;
    this.#groups[this.#slot] = group;
    if (this.#integers && !Number.isSafeInteger(k)) this.#integers = false;
    else if (this.size === 0) this.#lo = this.#hi = k + 0;
    else if (k < this.#lo) this.#lo = k;
    else if (k > this.#hi) this.#hi = k;
    this.size++;
    if (this.size * 2 <= this.#groups.length) return;
    if (this.#integers && this.#hi - this.#lo + 1 <= DENSE_RANGE * this.size) this.#direct();
    else this.#grow();
  }

  /** True while the keys are held by direct address (see the module comment). */
  get direct(): boolean {
    return this.#dense !== undefined;
  }

  /**
   * Bytes the arrays hold: the direct-address array (4 bytes a slot over the keys' range, and
   * room to grow), or the hash table's (12 bytes a slot; they double as keys come: at most half
   * the slots are used).
   */
  get bytes(): number {
    return this.#dense !== undefined ? this.#dense.byteLength : this.#groups.length * SLOT_BYTES;
  }

  /**
   * Bytes {@link NumberIndex.bytes} would grow by were `more` new keys inserted: by direct
   * address, keys going on at the density of those held (keys that left it sparse would move to
   * the hash table, counted once there).
   */
  growthBytes(more: number): number {
    const dense = this.#dense;
    if (dense !== undefined) {
      const keys = this.size + more;
      const need = this.size === 0 ? more : Math.ceil((keys * (this.#hi - this.#lo + 1)) / this.size);
      if (need <= dense.length) return 0;
      return (Math.max(need, Math.min(dense.length * 2, keys * DENSE_ROOM)) - dense.length) * 4;
    }
    let slots = this.#groups.length;
    while ((this.size + more) * 2 > slots) slots *= 2;
    return (slots - this.#groups.length) * SLOT_BYTES;
  }

  /**
   * Doubles the table. The keys are distinct, so each goes to the first empty slot from its
   * hash, with no key compared (a find per key compared each probed slot's key first).
   */
  #grow(): void {
    const keys = this.#keys;
    const groups = this.#groups;
    const newKeys = new Float64Array(keys.length * 2);
    const newGroups = new Int32Array(groups.length * 2).fill(-1);
    const mask = newGroups.length - 1;
    for (let s = 0; s < groups.length; s++) {
      const group = groups[s]!;
      if (group === -1) continue;
      const k = keys[s]!;
      let slot = hashNumber(k !== k ? Number.NaN : k) & mask;
      while (newGroups[slot] !== -1) slot = (slot + 1) & mask;
      newKeys[slot] = k;
      newGroups[slot] = group;
    }
    this.#keys = newKeys;
    this.#groups = newGroups;
  }

  /**
   * Makes room by direct address for integer key `key` (the last find's miss outside the array);
   * false when it is no integer or would leave the range too sparse (see the module comment).
   */
  #widen(key: number): boolean {
    if (!Number.isSafeInteger(key)) return false;
    const dense = this.#dense!;
    const k = key + 0; // -0 is 0
    const lo = this.size === 0 ? k : Math.min(this.#lo, k);
    const hi = this.size === 0 ? k : Math.max(this.#hi, k);
    const need = hi - lo + 1;
    if (need > DENSE_MIN_SLOTS && need > DENSE_RANGE * (this.size + 1)) return false;
    const slots = Math.max(need, FIRST_SLOTS, Math.min(dense.length * 2, DENSE_ROOM * (this.size + 1)));
    // room mostly on the side the keys grow to (above for a key past the greatest, else below),
    // a quarter of it on the other, so that keys coming on both sides still double it each time
    const room = slots - need;
    const base = this.size === 0 || k > this.#hi ? lo - (room >> 2) : lo - (room - (room >> 2));
    const grown = new Int32Array(slots).fill(-1);
    if (this.size > 0) grown.set(dense.subarray(this.#lo - this.#base, this.#hi - this.#base + 1), this.#lo - base);
    this.#dense = grown;
    this.#base = base;
    this.#slot = k - base;
    return true;
  }

  /** Moves the keys of the hash table, integers in a dense range, to direct address (see the module comment). */
  #direct(): void {
    const need = this.#hi - this.#lo + 1;
    const slots = Math.max(need, Math.min(need * 2, DENSE_ROOM * this.size));
    const base = this.#lo - ((slots - need) >> 2);
    const dense = new Int32Array(slots).fill(-1);
    const keys = this.#keys;
    const groups = this.#groups;
    for (let s = 0; s < groups.length; s++) if (groups[s] !== -1) dense[keys[s]! - base] = groups[s]!;
    this.#dense = dense;
    this.#base = base;
    this.#keys = new Float64Array(0);
    this.#groups = new Int32Array(0);
  }

  /** Moves the keys held by direct address to the hash table (see the module comment). */
  #hash(): void {
    const dense = this.#dense!;
    let slots = FIRST_SLOTS;
    while (this.size * 2 > slots) slots *= 2;
    this.#keys = new Float64Array(slots);
    this.#groups = new Int32Array(slots).fill(-1);
    this.#dense = undefined;
    const size = this.size;
    this.size = 0;
    for (let o = 0; o < dense.length; o++) {
      const group = dense[o]!;
      if (group === -1) continue;
      this.find(this.#base + o);
      this.insert(group);
    }
    if (this.size !== size) throw new Error(`NumberIndex: ${this.size} keys hashed of ${size}`);
  }

  /** Drops every key. */
  clear(): void {
    this.#dense = new Int32Array(0);
    this.#base = 0;
    this.#hi = -1;
    this.#integers = true;
    this.#keys = new Float64Array(0);
    this.#groups = new Int32Array(0);
    this.size = 0;
  }
}
