/**
 * Checks a decoded RecordBatch against its own lengths before anyone reads it: apache-arrow builds
 * columns of the length a header states over buffers of any size, and reads past a buffer's end
 * as `undefined`. A compressed batch whose row count was corrupted (say 2^40 rows over 100 rows
 * of data) then made the first consumer loop or fail with a RangeError far from the file. Every
 * buffer must hold what the column's length needs; a batch that does not is a corrupt file.
 */
import type { Data, RecordBatch } from 'apache-arrow';

/** apache-arrow's Type ids used here (enum.ts). */
const T = {
  Null: 1,
  Utf8: 5,
  Binary: 4,
  Bool: 6,
  List: 12,
  Struct: 13,
  Union: 14,
  FixedSizeList: 16,
  Map: 17,
  LargeBinary: 19,
  LargeUtf8: 20,
  LargeList: 21,
  Dictionary: -1,
} as const;

function fail(path: string, what: string): never {
  throw new Error(`column ${path} ${what}`);
}

function lastOffset(offsets: ArrayLike<number | bigint>, at: number): number {
  return Number(offsets[at]);
}

/**
 * Offsets from `from` to `end` never go backwards and start at 0 or more: a corrupt offset read
 * as it is made a value of 2 GB (a Parquet page size past int32) or Node's bare RangeError.
 */
function checkOffsets(offsets: ArrayLike<number | bigint>, from: number, end: number, path: string): void {
  let previous = Number(offsets[from]);
  if (previous < 0) fail(path, `has a negative offset (${previous}) at row ${from}`);
  for (let i = from + 1; i <= end; i++) {
    const next = Number(offsets[i]);
    if (next < previous) fail(path, `has offsets that go backwards at row ${i - 1} (${previous}, then ${next})`);
    previous = next;
  }
}

/** Every valid row's dictionary index points into the dictionary (a null row's index is any value). */
function checkIndices(data: Data, end: number, size: number, path: string): void {
  const indices = data.values as ArrayLike<number | bigint>;
  const bitmap = data.nullCount > 0 ? data.nullBitmap : undefined;
  for (let i = data.offset; i < end; i++) {
    if (bitmap && bitmap.length > 0 && (bitmap[i >> 3]! & (1 << (i & 7))) === 0) continue;
    const index = Number(indices[i]);
    if (!(index >= 0 && index < size))
      fail(path, `has dictionary index ${index} at row ${i - data.offset}, its dictionary ${size} values`);
  }
}

function checkData(data: Data, path: string, depth: number): void {
  if (depth > 64) fail(path, 'nests too deep');
  const end = data.offset + data.length;
  const bitmap = data.nullBitmap;
  if (bitmap && bitmap.length > 0 && bitmap.length * 8 < end)
    fail(path, `has a validity bitmap of ${bitmap.length} bytes for ${end} rows`);
  const typeId = data.type.typeId as number;
  const values = data.values as ArrayLike<unknown> | undefined;
  const offsets = data.valueOffsets as ArrayLike<number | bigint> | undefined;
  switch (typeId) {
    case T.Null:
      return;
    case T.Struct:
      for (const [i, child] of data.children.entries()) {
        if (child.length < end) fail(`${path}.${i}`, `has ${child.length} rows, its struct ${end}`);
        checkData(child, `${path}.${i}`, depth + 1);
      }
      return;
    case T.Bool:
      if (end > 0 && (!values || values.length * 8 < end))
        fail(path, `holds ${values?.length ?? 0} bytes of booleans for ${end} rows`);
      return;
    case T.Utf8:
    case T.Binary:
    case T.LargeUtf8:
    case T.LargeBinary:
    case T.List:
    case T.Map:
    case T.LargeList: {
      if (end === 0) return;
      if (!offsets || offsets.length < end + 1) fail(path, `has ${offsets?.length ?? 0} offsets for ${end} rows`);
      checkOffsets(offsets, data.offset, end, path);
      const last = lastOffset(offsets, end);
      if (typeId === T.List || typeId === T.Map || typeId === T.LargeList) {
        const child = data.children[0];
        if (!child || child.length < last)
          fail(path, `points at ${last} list values, its child has ${child?.length ?? 0}`);
        checkData(child, `${path}[]`, depth + 1);
      } else if (!values || values.length < last) fail(path, `points at ${last} bytes, it has ${values?.length ?? 0}`);
      return;
    }
    case T.FixedSizeList: {
      const size = (data.type as unknown as { listSize: number }).listSize;
      const child = data.children[0];
      if (!child || child.length < end * size)
        fail(path, `needs ${end * size} list values, its child has ${child?.length ?? 0}`);
      checkData(child, `${path}[]`, depth + 1);
      return;
    }
    case T.Union:
      if (end > 0 && (!data.typeIds || data.typeIds.length < end))
        fail(path, `has ${data.typeIds?.length ?? 0} type ids for ${end} rows`);
      for (const [i, child] of data.children.entries()) checkData(child, `${path}.${i}`, depth + 1);
      return;
    case T.Dictionary: {
      if (end > 0 && (!values || values.length < end * data.stride))
        fail(path, `holds ${values?.length ?? 0} indices for ${end} rows`);
      // the dictionary itself came from a dictionary batch, whose lengths apache-arrow trusted too
      const dictionary = (data as unknown as { dictionary?: { data: Data[]; length: number } }).dictionary;
      for (const chunk of dictionary?.data ?? []) checkData(chunk, `${path} (dictionary)`, depth + 1);
      checkIndices(data, end, dictionary?.length ?? 0, path);
      return;
    }
    default:
      // fixed width (numbers, dates, times, decimals, fixed-size binary) and dictionary indices
      if (end > 0 && (!values || values.length < end * data.stride))
        fail(path, `holds ${values?.length ?? 0} values for ${end} rows of stride ${data.stride}`);
  }
}

/** Throws a plain Error (callers add the file) when a buffer of `batch` is shorter than its lengths need. */
export function checkRecordBatch(batch: RecordBatch): void {
  for (const [i, child] of batch.data.children.entries()) {
    if (child.length !== batch.numRows)
      fail(`\`${batch.schema.fields[i]?.name ?? i}\``, `has ${child.length} rows, the batch ${batch.numRows}`);
    checkData(child, `\`${batch.schema.fields[i]?.name ?? i}\``, 1);
  }
}
