/**
 * Hash helpers shared by the operators' hash tables (group-index.ts, string-codes.ts,
 * number-codes.ts) and their partition hash (key-dictionary.ts).
 */

/** Entries at which a table growing toward an expected size jumps to it (see {@link nextCapacity}). */
const JUMP_AT = 4096;

/**
 * The capacity a full table of `capacity` entries grows to: double, or, once it has
 * {@link JUMP_AT}, at once the power of two that holds the `expected` entries its owner was told
 * of (group-table.ts tells a key column's dictionary only while it holds a value per two rows: a
 * time, an id). Such a dictionary, grown by doubling from 256 to the 312k groups of one partition
 * of a 5M-group groupBy, rehashed its entries eleven times (0.3 s of the merge).
 */
export function nextCapacity(capacity: number, expected: number): number {
  const doubled = capacity * 2;
  if (capacity < JUMP_AT || expected <= doubled) return doubled;
  return 2 ** Math.ceil(Math.log2(expected));
}

/** murmur3's 32-bit finaliser: every input bit reaches the low bits a power-of-two table masks. */
export function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

/**
 * A slot's tag for an open-addressing table whose slots hold an id of `bits` bits (ids below
 * `2 ** bits`, slots `2 ** (bits + 1)`): the top bits of hash `h`, which the slot number does not
 * use, stored above the id (`slotTag(h, bits) | id`). A probe that meets another key then rejects
 * it by comparing tags, without reading that key (at millions of keys, a cache miss per probe).
 * Never the sign bit, so a filled slot is never -1 (a table's EMPTY).
 */
export function slotTag(h: number, bits: number): number {
  return bits >= 31 ? 0 : ((h >>> (bits + 1)) << bits) & 0x7fffffff;
}
