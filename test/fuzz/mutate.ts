/**
 * Deterministic mutations of a file's bytes for the fuzz suite: bit flips, byte runs, truncations
 * at the file's structural boundaries and absurd declared sizes written where a format keeps its
 * sizes. The same seed gives the same cases, so a failure found by a long run is replayed with
 * `--seed S --only ID`.
 */

/** A small seeded PRNG (mulberry32): fast, deterministic, good enough to pick mutations. */
export class Rng {
  #state: number;
  constructor(seed: number) {
    this.#state = seed >>> 0;
  }

  /** A float in [0, 1). */
  next(): number {
    let t = (this.#state = (this.#state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** One element of a non-empty array. */
  pick<T>(values: readonly T[]): T {
    return values[this.int(values.length)]!;
  }
}

/** Where a format keeps its structure: offsets where a cut or a size is most telling. */
export interface Structure {
  /** Byte offsets of structural boundaries (headers, footers, blocks, page starts). */
  readonly boundaries: readonly number[];
  /** Offsets where the format stores a size or count (int32 LE or a Thrift varint). */
  readonly sizeFields: readonly { offset: number; kind: 'int32' | 'int64' | 'varint' }[];
  /** Byte ranges holding metadata (headers, footers) rather than values. */
  readonly metadata: readonly [number, number][];
}

/** What one mutation did, for the report and for replaying it. */
export interface Mutation {
  readonly kind: 'none' | 'bitflip' | 'byterun' | 'truncate' | 'absurd' | 'metaflip';
  readonly detail: string;
}

const ABSURD_INT32 = [0x7fffffff, -1, -2147483648, 0x40000000, 0x10000000];

/** Writes a Thrift compact (zigzag) varint of `value` (an i32 field) over `bytes` at `at`, in place. */
function writeVarint(bytes: Uint8Array, at: number, value: number): number {
  let v = BigInt(value);
  v = v >= 0n ? v << 1n : (-v << 1n) - 1n; // zigzag
  let i = at;
  do {
    let byte = Number(v & 0x7fn);
    v >>= 7n;
    if (v > 0n) byte |= 0x80;
    if (i < bytes.length) bytes[i] = byte;
    i++;
  } while (v > 0n);
  return i - at;
}

/**
 * One mutated copy of `original`. The kind is chosen by the PRNG; `structure` steers cuts and
 * absurd sizes to the places a format reads sizes from.
 */
export function mutate(
  original: Uint8Array,
  structure: Structure,
  rng: Rng,
): { bytes: Uint8Array; mutation: Mutation } {
  const bytes = Uint8Array.from(original);
  const n = bytes.length;
  const roll = rng.int(100);
  if (n === 0) return { bytes, mutation: { kind: 'none', detail: 'empty file' } };
  if (roll < 25) {
    const flips = 1 + rng.int(3);
    const at: number[] = [];
    for (let i = 0; i < flips; i++) {
      const pos = rng.int(n);
      bytes[pos]! ^= 1 << rng.int(8);
      at.push(pos);
    }
    return { bytes, mutation: { kind: 'bitflip', detail: `bits flipped at ${at.join(',')}` } };
  }
  if (roll < 45 && structure.metadata.length > 0) {
    // a flip inside a header or footer: where one bit changes a size, a type or an offset
    const [from, to] = rng.pick(structure.metadata);
    const pos = Math.min(n - 1, from + rng.int(Math.max(1, to - from)));
    bytes[pos]! ^= 1 << rng.int(8);
    return { bytes, mutation: { kind: 'metaflip', detail: `metadata bit flipped at ${pos}` } };
  }
  if (roll < 60) {
    const length = 1 + rng.int(16);
    const pos = rng.int(n);
    const fill = rng.pick(['zero', 'ff', 'random'] as const);
    for (let i = pos; i < Math.min(n, pos + length); i++)
      bytes[i] = fill === 'zero' ? 0 : fill === 'ff' ? 0xff : rng.int(256);
    return { bytes, mutation: { kind: 'byterun', detail: `${length} ${fill} bytes at ${pos}` } };
  }
  if (roll < 80) {
    const cuts = structure.boundaries.filter((b) => b > 0 && b < n);
    const base = cuts.length > 0 && rng.int(4) > 0 ? rng.pick(cuts) : rng.int(n);
    const cut = Math.max(0, Math.min(n - 1, base + rng.pick([0, 0, -1, 1, 4, -4])));
    return { bytes: bytes.subarray(0, cut), mutation: { kind: 'truncate', detail: `cut at ${cut} of ${n}` } };
  }
  const fields = structure.sizeFields.filter((f) => f.offset < n);
  if (fields.length === 0) {
    if (n < 4)
      return { bytes: bytes.subarray(0, n - 1), mutation: { kind: 'truncate', detail: `cut at ${n - 1} of ${n}` } };
    const pos = rng.int(Math.max(1, n - 4));
    new DataView(bytes.buffer).setInt32(pos, rng.pick(ABSURD_INT32), true);
    return { bytes, mutation: { kind: 'absurd', detail: `int32 at ${pos}` } };
  }
  const field = rng.pick(fields);
  const value = rng.pick(ABSURD_INT32);
  if (field.kind === 'int32' && field.offset + 4 <= n) {
    new DataView(bytes.buffer).setInt32(field.offset, value, true);
  } else if (field.kind === 'int64' && field.offset + 8 <= n) {
    new DataView(bytes.buffer).setBigInt64(field.offset, rng.pick([2n ** 40n, 2n ** 62n, -1n, BigInt(value)]), true);
  } else {
    // a varint of the same length keeps the rest of the structure in place; a longer one shifts it
    let end = field.offset;
    while (end < n && (bytes[end]! & 0x80) !== 0) end++;
    const oldLength = end - field.offset + 1;
    const scratch = new Uint8Array(10);
    const newLength = writeVarint(scratch, 0, value);
    if (rng.int(2) === 0 || newLength === oldLength) {
      const out = new Uint8Array(n - oldLength + newLength);
      out.set(bytes.subarray(0, field.offset));
      out.set(scratch.subarray(0, newLength), field.offset);
      out.set(bytes.subarray(field.offset + oldLength), field.offset + newLength);
      return {
        bytes: out,
        mutation: {
          kind: 'absurd',
          detail: `varint at ${field.offset} := ${value} (length ${oldLength} -> ${newLength})`,
        },
      };
    }
    // same length: the largest value that fits
    for (let i = field.offset; i < end; i++) bytes[i] = 0xff;
    if (end < n) bytes[end] = 0x7f;
    return { bytes, mutation: { kind: 'absurd', detail: `varint at ${field.offset} := max of ${oldLength} bytes` } };
  }
  return { bytes, mutation: { kind: 'absurd', detail: `${field.kind} at ${field.offset} := ${value}` } };
}
