/**
 * murmur3's 32-bit finaliser, shared by the operators' hash tables (group-index.ts,
 * number-codes.ts) and their partition hash (key-dictionary.ts): every input bit reaches the low
 * bits a power-of-two table masks.
 */
export function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}
