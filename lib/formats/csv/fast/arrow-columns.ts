/**
 * A {@link CellStore} sealed into an Arrow RecordBatch: each column's type from the kinds it saw
 * (Utf8 / Float64 / Int32 / Int64 / Bool / Null, the inference rules of lib/arrow/convert.ts), or
 * undefined when a column mixes kinds Arrow cannot hold without changing a value.
 *
 * A wide batch must not pay per column more than Arrow itself needs: the columns of one kind
 * share one values buffer (and one validity buffer), each column a view into it; types are shared
 * instances, fields share one empty metadata map (as apache-arrow's own Field.clone shares maps),
 * and Data is built without makeData's per-call empty arrays. 100,000 columns sealed in about a
 * third of the heap makeData and a Field per column took.
 */
import {
  Bool,
  Data,
  Field,
  Float64,
  Int32,
  Int64,
  Null,
  type RecordBatch,
  Schema,
  Struct,
  Utf8,
  type DataType,
} from 'apache-arrow';
import { ROWS_METADATA_KEY } from '../../arrow/convert.ts';
import { makeRecordBatchFast } from '../../arrow/record-batch.ts';
import {
  type CellStore,
  K_BIGINT,
  K_BOOL,
  K_FLOAT,
  K_HUGE,
  K_INT32,
  K_INTBIG,
  K_NULL,
  K_STRING,
} from './cell-store.ts';

/** The types a column can take, shared by every column and batch (types are immutable). */
const NULL = new Null();
const UTF8 = new Utf8();
const BOOL = new Bool();
const INT32 = new Int32();
const FLOAT64 = new Float64();
const INT64 = new Int64();
const NO_CHILDREN: Data[] = Object.freeze([]) as unknown as Data[];
const NO_BITMAP = new Uint8Array(0);
const NO_TEXT = Buffer.alloc(0);

/** The Arrow type of a column from its kinds mask, or undefined when they do not fit one type. */
export function typeOfMask(mask: number): DataType | undefined {
  const m = mask & ~K_NULL;
  if ((m & K_HUGE) !== 0) return undefined;
  if (m === 0) return NULL;
  if (m === K_STRING) return UTF8;
  if (m === K_BOOL) return BOOL;
  if ((m & ~K_INT32) === 0) return INT32;
  if ((m & ~(K_INT32 | K_FLOAT | K_INTBIG)) === 0) return FLOAT64;
  if ((m & K_BIGINT) !== 0 && (m & ~(K_BIGINT | K_INT32 | K_INTBIG)) === 0) return INT64;
  return undefined;
}

/** Bytes of a bitmap of `n` bits, padded to 8 bytes as Arrow's writers pad it. */
function bitmapBytes(n: number): number {
  return ((n + 63) >> 6) << 3;
}

/** The store as an Arrow RecordBatch, or undefined when some column has no single Arrow type. */
export function sealArrow(store: CellStore, names: readonly string[], arrayRows: boolean): RecordBatch | undefined {
  const width = store.width;
  const types: DataType[] = [];
  const count = new Map<DataType, number>();
  let nullable = 0;
  for (let c = 0; c < width; c++) {
    const type = typeOfMask(store.masks[c]!);
    if (type === undefined) return undefined;
    types.push(type);
    count.set(type, (count.get(type) ?? 0) + 1);
    if ((store.masks[c]! & K_NULL) !== 0 && type !== NULL) nullable++;
  }
  const n = store.rows;
  const stride = bitmapBytes(n);
  const buffers = {
    bitmaps: new Uint8Array(nullable * stride),
    bools: new Uint8Array((count.get(BOOL) ?? 0) * stride),
    int32: new Int32Array((count.get(INT32) ?? 0) * n),
    float64: new Float64Array((count.get(FLOAT64) ?? 0) * n),
    int64: new BigInt64Array((count.get(INT64) ?? 0) * n),
    offsets: new Int32Array((count.get(UTF8) ?? 0) * (n + 1)),
    // per-column text is handed over (columnText), the shared buffer's is copied out per column
    text: store.columnText ? NO_TEXT : Buffer.allocUnsafe(store.byteLength),
  };
  const at = { bitmaps: 0, bools: 0, int32: 0, float64: 0, int64: 0, offsets: 0, text: 0 };
  const metadata = new Map<string, string>();
  const fields: Field[] = new Array<Field>(width);
  const children: Data[] = new Array<Data>(width);
  for (let c = 0; c < width; c++) {
    const type = types[c]!;
    fields[c] = new Field(names[c]!, type, true, metadata);
    children[c] = columnData(store, c, type, buffers, at);
  }
  const schema = new Schema(fields, arrayRows ? new Map([[ROWS_METADATA_KEY, 'array']]) : null);
  const struct = new Data(new Struct(fields), 0, n, 0, [undefined, undefined, NO_BITMAP] as never, children);
  return makeRecordBatchFast(schema, struct);
}

type Buffers = {
  bitmaps: Uint8Array;
  bools: Uint8Array;
  int32: Int32Array;
  float64: Float64Array;
  int64: BigInt64Array;
  offsets: Int32Array;
  text: Buffer;
};
type Cursor = Record<keyof Buffers, number>;

/** Column `c` as Arrow data of `type`, its buffers views into the shared `buffers` at `at`. */
function columnData(store: CellStore, c: number, type: DataType, buffers: Buffers, at: Cursor): Data {
  const n = store.rows;
  const width = store.width;
  const kinds = store.kinds;
  const nums = store.nums;
  if (type === NULL) return new Data(type, 0, n, n, undefined, NO_CHILDREN);
  let nullBitmap: Uint8Array = NO_BITMAP;
  let nullCount = 0;
  if ((store.masks[c]! & K_NULL) !== 0) {
    const stride = bitmapBytes(n);
    nullBitmap = buffers.bitmaps.subarray(at.bitmaps, at.bitmaps + stride);
    at.bitmaps += stride;
    for (let i = 0, k = c; i < n; i++, k += width) {
      if (kinds[k] === K_NULL) nullCount++;
      else nullBitmap[i >> 3]! |= 1 << (i & 7);
    }
  }
  const data = (valueOffsets: Int32Array | undefined, values: ArrayBufferView): Data =>
    new Data(type, 0, n, nullCount, [valueOffsets, values, nullBitmap] as never, NO_CHILDREN);
  if (type === UTF8) {
    const offsets = buffers.offsets.subarray(at.offsets, at.offsets + n + 1);
    at.offsets += n + 1;
    if (store.columnText) return data(offsets, columnText(store, c, offsets));
    const from = at.text;
    const text = buffers.text;
    const bytes = store.texts[0]!;
    let to = from;
    for (let i = 0, k = c; i < n; i++, k += width) {
      const s = store.start(k);
      const e = store.ends[k]!;
      // a loop beats Buffer.copy's native call for short values
      if (e - s < 24) for (let p = s; p < e; p++) text[to++] = bytes[p]!;
      else to += bytes.copy(text, to, s, e);
      offsets[i + 1] = to - from;
    }
    at.text = to;
    return data(offsets, text.subarray(from, at.text));
  }
  if (type === BOOL) {
    const stride = bitmapBytes(n);
    const bits = buffers.bools.subarray(at.bools, at.bools + stride);
    at.bools += stride;
    for (let i = 0, k = c; i < n; i++, k += width)
      if (kinds[k] === K_BOOL && nums[k] === 1) bits[i >> 3]! |= 1 << (i & 7);
    return data(undefined, bits);
  }
  if (type === INT32 || type === FLOAT64) {
    const values =
      type === INT32
        ? buffers.int32.subarray(at.int32, at.int32 + n)
        : buffers.float64.subarray(at.float64, at.float64 + n);
    if (type === INT32) at.int32 += n;
    else at.float64 += n;
    for (let i = 0, k = c; i < n; i++, k += width) values[i] = nums[k]!;
    return data(undefined, values);
  }
  const values = buffers.int64.subarray(at.int64, at.int64 + n);
  at.int64 += n;
  for (let i = 0, k = c; i < n; i++, k += width) {
    const kind = kinds[k];
    if (kind === K_BIGINT) values[i] = store.bigints!.get(k)!;
    else if (kind !== K_NULL) values[i] = BigInt(nums[k]!);
  }
  return data(undefined, values);
}

/**
 * Column `c`'s own text buffer as its Arrow values, its `offsets` filled from the cell ends
 * (already relative to the buffer). A buffer more than half empty is copied to its size, so a
 * batch kept (in a spill budget, say) does not hold twice its text.
 */
function columnText(store: CellStore, c: number, offsets: Int32Array): Uint8Array {
  const n = store.rows;
  const width = store.width;
  const ends = store.ends;
  for (let i = 0, k = c; i < n; i++, k += width) offsets[i + 1] = ends[k]!;
  const used = store.textLengths[c]!;
  const bytes = store.texts[c]!;
  if (used * 2 >= bytes.length || bytes.length <= 4096) return bytes.subarray(0, used);
  return Uint8Array.prototype.slice.call(bytes, 0, used);
}
