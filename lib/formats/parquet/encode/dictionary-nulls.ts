/**
 * Arrow lets a dictionary hold null entries: a row whose index is valid but points at a null
 * entry is null. The Parquet writer reads validity from one bitmap per column, the indices', so
 * such a column is first given a bitmap that is null where either is (a string dictionary's null
 * entry was written as "", Arrow C++'s generated_dictionary test file has them). Cached per
 * Data: the nested writer appends one value at a time.
 */
import { Data, type DataType } from 'apache-arrow';

type Indexed = Data<DataType> & {
  values: ArrayLike<number | bigint>;
  nullBitmap: Uint8Array | undefined;
  dictionary?: { data: Data<DataType>[] };
};

const folded = new WeakMap<Data, Data>();

function valid(d: Data, i: number): boolean {
  const bitmap = (d as Indexed).nullBitmap;
  if (d.nullCount === 0 || bitmap === undefined || bitmap.length === 0) return true;
  const bit = d.offset + i;
  return ((bitmap[bit >> 3]! >> (bit & 7)) & 1) === 1;
}

/** `data` itself, or, for a dictionary with null entries, the same indices with the nulls of both. */
export function withDictionaryNulls<T extends Data>(data: T): T {
  const d = data as unknown as Indexed;
  if ((d.type.typeId as number) !== -1) return data;
  const chunks = d.dictionary?.data ?? [];
  if (chunks.length !== 1 || chunks[0]!.nullCount === 0) return data;
  const cached = folded.get(data);
  if (cached) return cached as T;
  const entries = chunks[0]!;
  const n = d.length;
  const bitmap = new Uint8Array(((n + 63) >> 6) << 3);
  let nulls = 0;
  for (let i = 0; i < n; i++) {
    if (valid(d, i) && valid(entries, Number(d.values[i]!))) bitmap[i >> 3]! |= 1 << (i & 7);
    else nulls++;
  }
  // the indices are already sliced to the offset (fixed width); the new bitmap starts at 0
  const out = new Data(d.type, 0, n, nulls, [undefined, d.values, bitmap] as never, [], d.dictionary as never);
  folded.set(data, out);
  return out as unknown as T;
}
