/**
 * The one total order over Arrow columns that every sorting operator uses (run sorting, k-way
 * merging, top-k), so runs sorted one way are never merged another way. Key specs are parsed in
 * sort-key-spec.ts.
 *
 * The order is DuckDB's default: ascending, NULLs last (in both directions unless asked), NaN
 * greater than every number (+Infinity included), -0 equal to +0, strings and binaries by their
 * UTF-8 bytes (DuckDB's binary collation), 64-bit integers, timestamps and decimals exactly (by
 * their two's-complement words), booleans false before true. An opt-in `locale` collation
 * compares strings with `Intl.Collator`.
 *
 * Keys are read straight from Arrow buffers into per-column key arrays (one Float64Array per
 * number column, word arrays for 64/128/256-bit values, offsets and a 4-byte prefix for strings):
 * no row object is built. Types without a buffer path here (dictionaries, Float16, nested types)
 * go through the generic value reader: correct, slower.
 */
import { Type, type Data, type DataType, type RecordBatch, type Schema } from 'apache-arrow';
import type { Collation, ResolvedSortKey } from './sort-key-spec.ts';
import { SchemaMismatchError, UnsupportedError, describeValue } from '../core/errors.ts';
import { valueReader } from '../formats/arrow/convert.ts';
import { compareValues } from './key-encoding.ts';

/** Key values of one column over a range of rows, in the form its type compares fastest. */
export type KeyColumn =
  | { kind: 'num'; nulls: Uint8Array | undefined; v: Float64Array }
  | { kind: 'words'; nulls: Uint8Array | undefined; w: Float64Array[] }
  | {
      kind: 'bytes';
      nulls: Uint8Array | undefined;
      pre: Float64Array;
      off: Int32Array | Float64Array;
      bytes: Uint8Array;
    }
  | { kind: 'locale'; nulls: Uint8Array | undefined; s: (string | null)[]; collator: Intl.Collator }
  | { kind: 'values'; nulls: Uint8Array | undefined; s: unknown[] };

/** The key columns of a set of rows (one per sort key). */
export type KeySet = KeyColumn[];

/** Compares row `i` of `a` with row `j` of `b`: negative, zero or positive. */
export type RowComparator = (a: KeySet, i: number, b: KeySet, j: number) => number;

function nullsOf(chunks: readonly Data[], n: number): Uint8Array | undefined {
  if (!chunks.some((d) => d.nullCount > 0)) return undefined;
  const out = new Uint8Array(n);
  let at = 0;
  for (const d of chunks) {
    const bitmap = d.nullBitmap;
    if (d.nullCount > 0 && bitmap && bitmap.length > 0) {
      const off = d.offset;
      for (let i = 0; i < d.length; i++) {
        const p = off + i;
        if (((bitmap[p >> 3]! >> (p & 7)) & 1) === 0) out[at + i] = 1;
      }
    } else if (d.nullCount === d.length && d.length > 0) out.fill(1, at, at + d.length);
    at += d.length;
  }
  return out;
}

/** How many 32-bit words a value of `type` has when compared as words (0: not a word type). */
function wordCount(type: DataType): { words: number; signed: boolean } {
  switch (type.typeId) {
    case Type.Int:
      return (type as unknown as { bitWidth: number }).bitWidth === 64
        ? { words: 2, signed: (type as unknown as { isSigned: boolean }).isSigned }
        : { words: 0, signed: true };
    case Type.Date:
      return { words: (type as unknown as { unit: number }).unit === 1 ? 2 : 0, signed: true }; // DateUnit.MILLISECOND = 1
    case Type.Timestamp:
    case Type.Duration:
      return { words: 2, signed: true };
    case Type.Time:
      return { words: (type as unknown as { bitWidth: number }).bitWidth === 64 ? 2 : 0, signed: true };
    case Type.Decimal:
      return { words: ((type as unknown as { bitWidth?: number }).bitWidth ?? 128) / 32, signed: true };
    default:
      return { words: 0, signed: true };
  }
}

function isNumberType(type: DataType): boolean {
  switch (type.typeId) {
    case Type.Int:
      return (type as unknown as { bitWidth: number }).bitWidth <= 32;
    case Type.Float:
      return (type as unknown as { precision: number }).precision !== 0; // not Float16
    case Type.Date:
      return (type as unknown as { unit: number }).unit === 0; // days
    case Type.Time:
      return (type as unknown as { bitWidth: number }).bitWidth === 32;
    case Type.Bool:
    case Type.Null:
      return true;
    default:
      return false;
  }
}

function isBytesType(type: DataType): boolean {
  return (
    type.typeId === Type.Utf8 ||
    type.typeId === Type.LargeUtf8 ||
    type.typeId === Type.Binary ||
    type.typeId === Type.LargeBinary
  );
}

const textDecoder = new TextDecoder();
const NESTED = new Set<Type>([
  Type.Struct,
  Type.List,
  Type.LargeList,
  Type.FixedSizeList,
  Type.Map,
  Type.Union,
  Type.SparseUnion,
  Type.DenseUnion,
]);

/** Number, boolean and date key values as doubles. */
function numberKeys(chunks: readonly Data[], type: DataType, n: number, nulls: Uint8Array | undefined): KeyColumn {
  const v = new Float64Array(n);
  let at = 0;
  for (const d of chunks) {
    if (type.typeId === Type.Bool) {
      const bits = d.values as Uint8Array;
      for (let i = 0; i < d.length; i++) {
        const p = d.offset + i;
        v[at + i] = (bits[p >> 3]! >> (p & 7)) & 1;
      }
    } else if (type.typeId !== Type.Null) {
      const values = d.values as unknown as ArrayLike<number>;
      for (let i = 0; i < d.length; i++) v[at + i] = values[i]!;
    }
    at += d.length;
  }
  return { kind: 'num', nulls, v };
}

/** 64/128/256-bit key values as 32-bit words, most significant (signed) first. */
function wordKeys(
  chunks: readonly Data[],
  words: number,
  signed: boolean,
  n: number,
  nulls: Uint8Array | undefined,
): KeyColumn {
  const w = Array.from({ length: words }, () => new Float64Array(n));
  let at = 0;
  for (const d of chunks) {
    const values = d.values as unknown as ArrayBufferView;
    const u = new Uint32Array(values.buffer, values.byteOffset, d.length * words);
    const top = signed ? new Int32Array(values.buffer, values.byteOffset, d.length * words) : u;
    for (let i = 0; i < d.length; i++) {
      const base = i * words;
      // little-endian words: the last is the most significant (and carries the sign)
      w[0]![at + i] = top[base + words - 1]!;
      for (let k = 1; k < words; k++) w[k]![at + i] = u[base + words - 1 - k]!;
    }
    at += d.length;
  }
  return { kind: 'words', nulls, w };
}

/** String and binary key values as their UTF-8 bytes, with a 6-byte numeric prefix. */
function byteKeys(chunks: readonly Data[], n: number, nulls: Uint8Array | undefined): KeyColumn {
  const only = chunks.length === 1 ? chunks[0]! : undefined;
  if (only && only.valueOffsets instanceof Int32Array) {
    // one chunk (a merge cursor's batch, a top-k batch): its own buffers, no copy
    // (a sliced Data's offsets are sliced with it: only its validity bitmap keeps the offset)
    const off = only.valueOffsets.subarray(0, n + 1);
    const bytes = only.values as Uint8Array;
    const pre = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const s = off[i]!;
      const len = off[i + 1]! - s;
      let p = 0;
      for (let k = 0; k < 6; k++) p = p * 256 + (k < len ? bytes[s + k]! : 0);
      pre[i] = p;
    }
    return { kind: 'bytes', nulls, pre, off, bytes };
  }
  let total = 0;
  for (const d of chunks) {
    const o = d.valueOffsets as ArrayLike<number | bigint>;
    total += Number(o[d.length]) - Number(o[0]);
  }
  const bytes = new Uint8Array(total);
  const off = total > 2 ** 31 - 1 ? new Float64Array(n + 1) : new Int32Array(n + 1);
  const pre = new Float64Array(n);
  let at = 0;
  let pos = 0;
  for (const d of chunks) {
    const o = d.valueOffsets as ArrayLike<number | bigint>;
    const values = d.values as Uint8Array;
    const big = typeof o[0] === 'bigint';
    const start = Number(o[0]);
    const end = Number(o[d.length]);
    bytes.set(values.subarray(start, end), pos);
    for (let i = 0; i < d.length; i++) {
      const s = big ? Number(o[i]) : (o[i] as number);
      const e = big ? Number(o[i + 1]) : (o[i + 1] as number);
      off[at + i] = pos + s - start;
      // the first 6 bytes as a number (zero padded): most comparisons end here
      const len = e - s;
      let p = 0;
      for (let k = 0; k < 6; k++) p = p * 256 + (k < len ? values[s + k]! : 0);
      pre[at + i] = p;
    }
    pos += end - start;
    at += d.length;
    off[at] = pos;
  }
  return { kind: 'bytes', nulls, pre, off, bytes };
}

/** Locale strings and every other type: JS values through the generic reader. */
function valueKeys(
  chunks: readonly Data[],
  type: DataType,
  collation: Collation,
  collator: Intl.Collator | undefined,
  column: string,
  n: number,
  nulls: Uint8Array | undefined,
): KeyColumn {
  const s = new Array<unknown>(n);
  let at = 0;
  for (const d of chunks) {
    const read = valueReader(d, { int64: 'bigint', timestamps: 'date' }, column);
    for (let i = 0; i < d.length; i++) {
      let value = read(i);
      if (value instanceof Uint8Array && collation === 'locale') value = textDecoder.decode(value);
      // a null the validity bitmap does not show: a dictionary entry that is null itself
      if (value === null || value === undefined) (nulls ??= new Uint8Array(n))[at + i] = 1;
      s[at + i] = value;
    }
    at += d.length;
  }
  if (isBytesType(type) && collation === 'locale')
    return { kind: 'locale', nulls, s: s as (string | null)[], collator: collator ?? new Intl.Collator() };
  if (NESTED.has(type.typeId)) {
    throw new UnsupportedError(
      `Cannot sort by column "${column}" of Arrow type ${String(type)}: nested values have no order here`,
      {},
    );
  }
  return { kind: 'values', nulls, s };
}

/**
 * Builds the key column of `chunks` (the same column of consecutive batches, one Arrow type),
 * rows numbered across the chunks in order.
 */
export function keyColumn(
  chunks: readonly Data[],
  collation: Collation,
  collator: Intl.Collator | undefined,
  column: string,
): KeyColumn {
  let n = 0;
  for (const d of chunks) n += d.length;
  const type = (chunks[0]?.type ?? { typeId: Type.Null }) as DataType;
  const nulls = nullsOf(chunks, n);
  if (isNumberType(type)) return numberKeys(chunks, type, n, nulls);
  const { words, signed } = wordCount(type);
  if (words > 0) return wordKeys(chunks, words, signed, n, nulls);
  if (isBytesType(type) && collation === 'binary') return byteKeys(chunks, n, nulls);
  return valueKeys(chunks, type, collation, collator, column, n, nulls);
}

/** Compares byte ranges past their first 6 bytes, which the keys' numeric prefixes compared. */
function compareBytes(ab: Uint8Array, as: number, ae: number, bb: Uint8Array, bs: number, be: number): number {
  const la = ae - as;
  const lb = be - bs;
  const n = la < lb ? la : lb;
  for (let k = n < 6 ? n : 6; k < n; k++) {
    const x = ab[as + k]!;
    const y = bb[bs + k]!;
    if (x !== y) return x < y ? -1 : 1;
  }
  return la - lb;
}

function compareNumbers(x: number, y: number): number {
  if (x < y) return -1;
  if (x > y) return 1;
  if (x === y) return 0;
  const xn = x !== x;
  const yn = y !== y;
  return xn === yn ? 0 : xn ? 1 : -1; // NaN above every number
}

/** The comparator of one key over its key columns, direction and NULL placement applied. */
function keyComparator(key: ResolvedSortKey, kind: KeyColumn['kind'], k: number): RowComparator {
  const { dir, nulls } = key;
  const withNulls =
    (inner: (a: KeyColumn, i: number, b: KeyColumn, j: number) => number): RowComparator =>
    (A, i, B, j) => {
      const a = A[k]!;
      const b = B[k]!;
      const an = a.nulls !== undefined && a.nulls[i] === 1;
      const bn = b.nulls !== undefined && b.nulls[j] === 1;
      if (an || bn) return an && bn ? 0 : an ? nulls : -nulls;
      return dir * inner(a, i, b, j);
    };
  switch (kind) {
    case 'num':
      return withNulls((a, i, b, j) =>
        compareNumbers((a as { v: Float64Array }).v[i]!, (b as { v: Float64Array }).v[j]!),
      );
    case 'words':
      return withNulls((a, i, b, j) => {
        const wa = (a as { w: Float64Array[] }).w;
        const wb = (b as { w: Float64Array[] }).w;
        for (let q = 0; q < wa.length; q++) {
          const x = wa[q]![i]!;
          const y = wb[q]![j]!;
          if (x !== y) return x < y ? -1 : 1;
        }
        return 0;
      });
    case 'bytes':
      return withNulls((a0, i, b0, j) => {
        const a = a0 as Extract<KeyColumn, { kind: 'bytes' }>;
        const b = b0 as Extract<KeyColumn, { kind: 'bytes' }>;
        const x = a.pre[i]!;
        const y = b.pre[j]!;
        if (x !== y) return x < y ? -1 : 1;
        return compareBytes(a.bytes, a.off[i]!, a.off[i + 1]!, b.bytes, b.off[j]!, b.off[j + 1]!);
      });
    case 'locale':
      return withNulls((a, i, b, j) => {
        const col = a as Extract<KeyColumn, { kind: 'locale' }>;
        return col.collator.compare(col.s[i]!, (b as Extract<KeyColumn, { kind: 'locale' }>).s[j]!);
      });
    case 'values':
      return withNulls((a, i, b, j) => compareValues((a as { s: unknown[] }).s[i], (b as { s: unknown[] }).s[j]));
  }
}

/**
 * The order of a sort: which columns of a schema hold the keys, how to build key sets from
 * batches, and the row comparator over them.
 */
export class SortOrdering {
  readonly keys: readonly ResolvedSortKey[];
  readonly collation: Collation;
  readonly #collator: Intl.Collator | undefined;
  #schema: Schema | undefined;
  #indices: number[] = [];
  #compare: RowComparator | undefined;

  constructor(keys: readonly ResolvedSortKey[], collation: Collation = 'binary') {
    this.keys = keys;
    this.collation = collation;
    this.#collator = collation === 'locale' ? new Intl.Collator() : undefined;
  }

  /** Binds the ordering to `schema` (the unified schema of everything it will compare). */
  bind(schema: Schema): void {
    if (this.#schema === schema) return;
    const names = schema.fields.map((f) => f.name);
    this.#indices = this.keys.map((key) => {
      const at = names.indexOf(key.column);
      if (at < 0)
        throw new SchemaMismatchError(
          `Cannot sort by column ${describeValue(key.column)}: the data has no such column (it has ${names.join(', ')})`,
          {},
        );
      return at;
    });
    const kinds = this.keys.map((key, k): KeyColumn['kind'] => {
      const type = schema.fields[this.#indices[k]!]!.type as DataType;
      if (isNumberType(type)) return 'num';
      if (wordCount(type).words > 0) return 'words';
      if (isBytesType(type)) return this.collation === 'binary' ? 'bytes' : 'locale';
      if (NESTED.has(type.typeId))
        throw new UnsupportedError(
          `Cannot sort by column ${describeValue(key.column)} of Arrow type ${String(type)}: nested values have no order here`,
          {},
        );
      return 'values';
    });
    const comparators = this.keys.map((key, k) => keyComparator(key, kinds[k]!, k));
    this.#compare =
      comparators.length === 1
        ? comparators[0]!
        : (a, i, b, j) => {
            for (let k = 0; k < comparators.length; k++) {
              const c = comparators[k]!(a, i, b, j);
              if (c !== 0) return c;
            }
            return 0;
          };
    this.#schema = schema;
  }

  /** The comparator (after {@link SortOrdering.bind}). */
  get compare(): RowComparator {
    if (!this.#compare) throw new Error('SortOrdering used before bind()');
    return this.#compare;
  }

  /** The key set of `batches` (all of the bound schema), rows numbered across them in order. */
  keySet(batches: readonly RecordBatch[]): KeySet {
    return this.#indices.map((c, k) => {
      const chunks = batches.map((b) => b.data.children[c]!);
      return keyColumn(chunks, this.collation, this.#collator, this.keys[k]!.column);
    });
  }
}
