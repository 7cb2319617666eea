/**
 * Gathers rows from several RecordBatches of one schema into a new batch, in a given order:
 * row `k` of the output is row `rows[k]` of batch `sources[from[k]]`. Sorting and merging need
 * this (a sorted run interleaves rows of many input batches; a merged output batch interleaves
 * rows of many runs); `selectRows` only picks from one batch.
 *
 * Flat types are copied on their buffers (fixed-width slots, string bytes, validity and boolean
 * bits); dictionaries sharing one dictionary keep it and copy indices; lists, maps and structs
 * gather their children in turn, views their views and long values; anything else (dictionaries
 * that differ, unions) goes through JS values and `buildColumn`: correct, slower, and refused
 * where it has no builder.
 */
import { Data, type RecordBatch, Struct, Type, makeData, type DataType, type Field, type Schema } from 'apache-arrow';
import { makeRecordBatchFast } from '../formats/arrow/record-batch.ts';
import { buildColumn, valueReader } from '../formats/arrow/convert.ts';
import { isFixedWidth } from '../formats/arrow/fixed-width.ts';

type Slots = ArrayLike<number | bigint> & { [i: number]: number | bigint; length: number };
type SlotsConstructor = new (length: number) => Slots;

/** Where each output row comes from: a source index and a row in it, `length` rows. */
export interface GatherPlan {
  /** Source batch of each output row. */
  readonly from: ArrayLike<number>;
  /** Row within its source of each output row. */
  readonly rows: ArrayLike<number>;
  readonly length: number;
}

function gatherValidity(
  chunks: readonly Data[],
  plan: GatherPlan,
): { bitmap: Uint8Array | undefined; nullCount: number } {
  if (!chunks.some((d) => d.nullCount > 0)) return { bitmap: undefined, nullCount: 0 };
  const n = plan.length;
  const bitmap = new Uint8Array(((n + 63) >> 6) << 3);
  let nullCount = 0;
  for (let k = 0; k < n; k++) {
    const d = chunks[plan.from[k]!]!;
    let valid: boolean;
    if (d.nullCount === 0) valid = true;
    else {
      const bits = d.nullBitmap;
      if (!bits || bits.length === 0) valid = d.nullCount !== d.length;
      else {
        const at = d.offset + plan.rows[k]!;
        valid = ((bits[at >> 3]! >> (at & 7)) & 1) === 1;
      }
    }
    if (valid) bitmap[k >> 3]! |= 1 << (k & 7);
    else nullCount++;
  }
  return { bitmap, nullCount };
}

/** Fixed-width slots (and dictionary indices), `stride` slots per row. */
function gatherSlots(type: DataType, chunks: readonly Data[], plan: GatherPlan): Data {
  const { from, rows } = plan;
  const n = plan.length;
  const first = chunks[0]!;
  const { bitmap, nullCount } = gatherValidity(chunks, plan);
  const stride = first.stride;
  const values = chunks.map((d) => d.values as unknown as Slots);
  const out = new ((first.values as object).constructor as SlotsConstructor)(n * stride);
  if (stride === 1) {
    for (let k = 0; k < n; k++) out[k] = values[from[k]!]![rows[k]!]!;
  } else {
    for (let k = 0; k < n; k++) {
      const src = values[from[k]!]!;
      const at = rows[k]! * stride;
      for (let s = 0; s < stride; s++) out[k * stride + s] = src[at + s]!;
    }
  }
  return new Data(type, 0, n, nullCount, [undefined, out, bitmap] as never, [], first.dictionary);
}

/**
 * Strings or bytes by their 32-bit `offsets` (one array per chunk), gathered with monomorphic
 * typed-array reads (a loop shared with 64-bit offsets read both through Number() and ran at half
 * the speed; a fifth of a sort's CPU is this gather): the bytes and their end offsets. Undefined
 * when the bytes would pass 32-bit offsets.
 */
function gatherText(
  chunks: readonly Data[],
  plan: GatherPlan,
  offsets: readonly Int32Array[],
): { bytes: Uint8Array; ends: Int32Array } | undefined {
  const { from, rows } = plan;
  const n = plan.length;
  let total = 0;
  for (let k = 0; k < n; k++) {
    const o = offsets[from[k]!]!;
    const i = rows[k]!;
    total += o[i + 1]! - o[i]!;
  }
  if (total > 2 ** 31 - 1) return undefined;
  const bytes = new Uint8Array(total);
  const out = new DataView(bytes.buffer);
  const ends = new Int32Array(n + 1);
  const values = chunks.map((d) => d.values as Uint8Array);
  const views = values.map((v) => new DataView(v.buffer, v.byteOffset, v.byteLength));
  let at = 0;
  for (let k = 0; k < n; k++) {
    const src = from[k]!;
    const o = offsets[src]!;
    const i = rows[k]!;
    const p = o[i]!;
    const end = o[i + 1]!;
    copyValue(values[src]!, views[src]!, p, end, bytes, out, at);
    at += end - p;
    ends[k + 1] = at;
  }
  return { bytes, ends };
}

/**
 * Copies bytes `[p, end)` of `from` (and its DataView) to `to` at `at`: a short value four bytes
 * at a time, then byte by byte (a subarray per value costs more than the copy, and a word per
 * step copied 14-byte values in 50 ns against 68 byte by byte), a long one with `set`.
 */
export function copyValue(
  from: Uint8Array,
  fromView: DataView,
  p: number,
  end: number,
  to: Uint8Array,
  toView: DataView,
  at: number,
): void {
  if (end - p >= 32) {
    to.set(from.subarray(p, end), at);
    return;
  }
  for (; p + 4 <= end; p += 4, at += 4) toView.setUint32(at, fromView.getUint32(p, true), true);
  for (; p < end; p++) to[at++] = from[p]!;
}

/** Utf8/Binary (32-bit offsets) or LargeUtf8/LargeBinary (64-bit, narrowed while a chunk's bytes fit 32 bits). */
function gatherTextColumn(type: DataType, chunks: readonly Data[], plan: GatherPlan, large: boolean): Data | undefined {
  const narrow = (d: Data): Int32Array | undefined => {
    if (!large) return d.valueOffsets as Int32Array;
    const wide = d.valueOffsets as unknown as BigInt64Array;
    return wide[wide.length - 1]! > 2n ** 31n - 1n ? undefined : Int32Array.from(wide, Number);
  };
  const offsets = chunks.map(narrow);
  if (offsets.some((o) => o === undefined)) return undefined;
  const text = gatherText(chunks, plan, offsets as Int32Array[]);
  if (text === undefined) return undefined;
  const { bitmap, nullCount } = gatherValidity(chunks, plan);
  const ends = large ? BigInt64Array.from(text.ends, BigInt) : text.ends;
  return new Data(type, 0, plan.length, nullCount, [ends, text.bytes, bitmap] as never);
}

/**
 * Lists, large lists and maps: the offsets of the gathered slots, and their elements gathered in
 * turn (a child plan naming each element's source and index), so that nested values never go
 * through JS values (whose column builder has no List, Struct or Map).
 */
function gatherList(field: Field, chunks: readonly Data[], plan: GatherPlan): Data {
  const type = field.type as DataType;
  const { from, rows } = plan;
  const n = plan.length;
  const large = type.typeId === Type.LargeList;
  const offsets = chunks.map((d) => d.valueOffsets as unknown as ArrayLike<number | bigint>);
  let total = 0;
  for (let k = 0; k < n; k++) {
    const o = offsets[from[k]!]!;
    const i = rows[k]!;
    total += Number(o[i + 1]) - Number(o[i]);
  }
  const childFrom = new Uint32Array(total);
  const childRows = new Uint32Array(total);
  const out = large ? new BigInt64Array(n + 1) : new Int32Array(n + 1);
  let at = 0;
  for (let k = 0; k < n; k++) {
    const s = from[k]!;
    const o = offsets[s]!;
    const i = rows[k]!;
    for (let c = Number(o[i]), e = Number(o[i + 1]); c < e; c++) {
      childFrom[at] = s;
      childRows[at++] = c;
    }
    if (large) (out as BigInt64Array)[k + 1] = BigInt(at);
    else (out as Int32Array)[k + 1] = at;
  }
  const { bitmap, nullCount } = gatherValidity(chunks, plan);
  const childField = type.children[0]!;
  const child = gatherColumn(
    childField,
    chunks.map((d) => d.children[0]!),
    { from: childFrom, rows: childRows, length: total },
  );
  return new Data(type, 0, n, nullCount, [out, undefined, bitmap] as never, [child]);
}

/** Fixed-size lists: `size` elements a slot, gathered in turn. */
function gatherFixedSizeList(field: Field, chunks: readonly Data[], plan: GatherPlan): Data {
  const type = field.type as DataType & { listSize: number };
  const size = type.listSize;
  const n = plan.length;
  const childFrom = new Uint32Array(n * size);
  const childRows = new Uint32Array(n * size);
  for (let k = 0; k < n; k++) {
    for (let e = 0; e < size; e++) {
      childFrom[k * size + e] = plan.from[k]!;
      childRows[k * size + e] = plan.rows[k]! * size + e;
    }
  }
  const { bitmap, nullCount } = gatherValidity(chunks, plan);
  const child = gatherColumn(
    type.children[0]!,
    chunks.map((d) => d.children[0]!),
    { from: childFrom, rows: childRows, length: n * size },
  );
  return new Data(type, 0, n, nullCount, [undefined, undefined, bitmap] as never, [child]);
}

/** Structs: the validity, and each field gathered with the same plan (a struct's children share its rows). */
function gatherStruct(field: Field, chunks: readonly Data[], plan: GatherPlan): Data {
  const type = field.type as DataType;
  const { bitmap, nullCount } = gatherValidity(chunks, plan);
  const children = type.children.map((child, c) =>
    gatherColumn(
      child,
      chunks.map((d) => d.children[c]!),
      plan,
    ),
  );
  return new Data(type, 0, plan.length, nullCount, [undefined, undefined, bitmap] as never, children);
}

/** Bytes of one string or binary view (length, then inline bytes or prefix, buffer index and offset). */
const VIEW_WIDTH = 16;
/** Longest value a view holds inline. */
const VIEW_INLINE = 12;

/**
 * String and binary views (what Polars writes): each view copied, and the bytes of a value too
 * long to be inline copied into one new buffer, so that a gathered batch holds only its own
 * values, not every source's buffers (a spilled run would write them all).
 */
function gatherViews(type: DataType, chunks: readonly Data[], plan: GatherPlan): Data {
  const { from, rows } = plan;
  const n = plan.length;
  const views = chunks.map((d) => d.values as Uint8Array);
  const readers = views.map((v) => new DataView(v.buffer, v.byteOffset, v.byteLength));
  const buffers = chunks.map((d) => (d as Data & { variadicBuffers: Uint8Array[] }).variadicBuffers);
  let total = 0;
  for (let k = 0; k < n; k++) {
    const len = readers[from[k]!]!.getInt32(rows[k]! * VIEW_WIDTH, true);
    if (len > VIEW_INLINE) total += len;
  }
  const out = new Uint8Array(n * VIEW_WIDTH);
  const writer = new DataView(out.buffer);
  const bytes = new Uint8Array(total);
  let at = 0;
  for (let k = 0; k < n; k++) {
    const src = from[k]!;
    const p = rows[k]! * VIEW_WIDTH;
    out.set(views[src]!.subarray(p, p + VIEW_WIDTH), k * VIEW_WIDTH);
    const view = readers[src]!;
    const len = view.getInt32(p, true);
    if (len <= VIEW_INLINE) continue;
    const buffer = buffers[src]![view.getInt32(p + 8, true)]!;
    const offset = view.getInt32(p + 12, true);
    bytes.set(buffer.subarray(offset, offset + len), at);
    writer.setInt32(k * VIEW_WIDTH + 8, 0, true);
    writer.setInt32(k * VIEW_WIDTH + 12, at, true);
    at += len;
  }
  const { bitmap, nullCount } = gatherValidity(chunks, plan);
  return new Data(type, 0, n, nullCount, [undefined, out, bitmap] as never, [], undefined, [bytes] as never);
}

/** Column `field`'s rows `plan` names, gathered from `chunks` (one per source). */
export function gatherColumn(field: Field, chunks: readonly Data[], plan: GatherPlan): Data {
  const type = field.type as DataType;
  const n = plan.length;
  const { from, rows } = plan;
  const first = chunks[0]!;
  if (isFixedWidth(type)) return gatherSlots(type, chunks, plan);
  switch (type.typeId) {
    case Type.Null:
      return makeData({ type: type as never, length: n, nullCount: n }) as Data;
    case Type.Bool: {
      const { bitmap, nullCount } = gatherValidity(chunks, plan);
      const bits = new Uint8Array(((n + 63) >> 6) << 3);
      for (let k = 0; k < n; k++) {
        const d = chunks[from[k]!]!;
        const at = d.offset + rows[k]!;
        if (((d.values as Uint8Array)[at >> 3]! >> (at & 7)) & 1) bits[k >> 3]! |= 1 << (k & 7);
      }
      return new Data(type, 0, n, nullCount, [undefined, bits, bitmap] as never);
    }
    case Type.Dictionary:
      if (!chunks.every((d) => d.dictionary === first.dictionary)) break;
      return gatherSlots(type, chunks, plan); // one shared dictionary: copy the indices
    case Type.Utf8:
    case Type.Binary:
    case Type.LargeUtf8:
    case Type.LargeBinary: {
      const text = gatherTextColumn(
        type,
        chunks,
        plan,
        type.typeId === Type.LargeUtf8 || type.typeId === Type.LargeBinary,
      );
      if (text) return text;
      break; // too big for 32-bit offsets: the generic path fails clearly
    }
    case Type.Utf8View:
    case Type.BinaryView:
      return gatherViews(type, chunks, plan);
    case Type.List:
    case Type.LargeList:
    case Type.Map:
      return gatherList(field, chunks, plan);
    case Type.FixedSizeList:
      return gatherFixedSizeList(field, chunks, plan);
    case Type.Struct:
      return gatherStruct(field, chunks, plan);
    default:
      break;
  }
  const readers = chunks.map((d) => valueReader(d, { int64: 'bigint', timestamps: 'date' }, field.name));
  const values = new Array<unknown>(n);
  for (let k = 0; k < n; k++) values[k] = readers[from[k]!]!(rows[k]!);
  return buildColumn(field, values);
}

/**
 * The rows `plan` names, gathered from `sources` (every one of `schema`) into one RecordBatch.
 */
export function gatherRows(schema: Schema, sources: readonly RecordBatch[], plan: GatherPlan): RecordBatch {
  const children = schema.fields.map((field, c) =>
    gatherColumn(
      field,
      sources.map((b) => b.data.children[c]!),
      plan,
    ),
  );
  const struct = makeData({ type: new Struct(schema.fields), length: plan.length, nullCount: 0, children });
  return makeRecordBatchFast(schema, struct);
}
