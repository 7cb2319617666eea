/**
 * Number keys -> group indexes in an open-addressing hash table on typed arrays: the join's table
 * for a one-column key whose canonical form is a number (key-trie.ts `canonicalKey`: numbers,
 * and bigints in the safe range). A JS Map of 500k number keys cost about 0.33 us a lookup in
 * the 1M x 500k bench join (its entries are scattered objects: several cache misses each); here
 * a lookup reads one slot of two flat arrays, about 0.08 us in a micro-benchmark.
 *
 * Equality is the Map's SameValueZero on canonical keys: -0 is 0, and every NaN is one key.
 */

/** Slots of a new table: small, as a table is counted by its arrays (a partition's table may hold a few rows). */
const FIRST_SLOTS = 64;

/** Bytes of one slot (a key and a group). */
const SLOT_BYTES = 8 + 4;

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
  #keys = new Float64Array(FIRST_SLOTS);
  #groups = new Int32Array(FIRST_SLOTS).fill(-1);
  /** The slot where the last {@link NumberIndex.find} stopped (its key's, or the empty one to insert at). */
  #slot = 0;
  #key = 0;
  /** Keys held. */
  size = 0;

  /** The group of `key`, or -1; remembers where the key is or goes, for {@link NumberIndex.insert}. */
  find(key: number): number {
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
    this.#keys[this.#slot] = this.#key;
    this.#groups[this.#slot] = group;
    this.size++;
    if (this.size * 2 > this.#groups.length) this.#grow();
  }

  /** Bytes the table's arrays hold (they double as keys come: at most half the slots are used). */
  get bytes(): number {
    return this.#groups.length * SLOT_BYTES;
  }

  /** Bytes {@link NumberIndex.bytes} would grow by were `more` new keys inserted. */
  growthBytes(more: number): number {
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

  /** Drops every key. */
  clear(): void {
    this.#keys = new Float64Array(FIRST_SLOTS);
    this.#groups = new Int32Array(FIRST_SLOTS).fill(-1);
    this.size = 0;
  }
}
