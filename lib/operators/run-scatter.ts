/**
 * A sorted run in memory put in order column by column, by reading its source batches in order
 * and writing each value to its place in the output (a scatter), instead of reading, for each
 * output row in turn, the source row it comes from (a gather, gather.ts).
 *
 * Why: in sort order a run's rows come from its sources at random. A run is tens to hundreds of
 * megabytes, past the CPU's caches, so a gather pays a cache miss (and often a TLB miss) for
 * every value it reads: measured on 1M 24-byte strings from 500 batches, 216 ms gathered against
 * 27 ms copied in order, and a third of a whole `sort` pipeline's time was this gather
 * (`fromCsv -> sort(['price', 'ts']) -> toParquet`, 1M rows: 1.37 s of 3.4 s in memory). A
 * scatter reads in order and writes at random; the CPU does not wait for a write as it waits for
 * a read.
 *
 * Flat columns are scattered: strings and bytes with 32-bit offsets, fixed-width values (numbers,
 * dates, times, decimals, fixed-size binary, and dictionary indices when the sources share one
 * dictionary), booleans and nulls. Any other column (lists, structs, maps, views, large offsets,
 * dictionaries that differ) is gathered batch by batch as before.
 *
 * Memory: the output is built a window at a time ({@link WINDOWS}), so a run is held with a
 * quarter of it sorted beside it, where the gather held it with one output batch; the sources are
 * dropped before the last window's batches leave. Each window knows which source rows land in it
 * (its {@link Moves}, 12 bytes a row in all), so a column's pass reads only those, in order.
 */
import { Data, type DataType, type Field, type RecordBatch, type Schema, Struct, Type, makeData } from 'apache-arrow';
import { makeRecordBatchFast } from '../formats/arrow/record-batch.ts';
import { isFixedWidth } from '../formats/arrow/fixed-width.ts';
import { copyValue, gatherColumn } from './gather.ts';

/** The output of one column: per output batch, its Data. */
type ColumnBatches = Data[];

/**
 * The source rows whose output rows fall in one window, in source order (grouped by chunk): entry
 * `e` moves row `row[e]` of chunk `chunk[e]` to the window's row `to[e]`.
 */
interface Moves {
  chunk: Uint32Array;
  row: Uint32Array;
  to: Uint32Array;
}

/**
 * A window of output rows, `[k0, k0 + span)`, in batches of `rows` rows (the last may be shorter):
 * what one pass of the scatter builds, and the moves that fill it.
 */
interface Batches {
  /** First output row of the window. */
  k0: number;
  /** Rows of the window. */
  span: number;
  /** Rows per batch. */
  rows: number;
  /** Number of batches in the window. */
  count: number;
  moves: Moves;
}

function batchLength(batches: Batches, b: number): number {
  return Math.min(batches.rows, batches.span - b * batches.rows);
}

/**
 * Windows a run is built in: each holds a quarter of the run's rows (whole batches), so the output
 * held at once is a quarter of the run while the sources are held whole.
 */
const WINDOWS = 4;

/**
 * The sorted run's batches. `columns[c]` holds column `c`'s source chunks, one per source batch
 * in order, `sizes` each source's rows, and `order[k]` the source row (numbered across the
 * sources in order) of output row `k`. Takes ownership of `columns`: they are cleared once the
 * last window is built.
 */
export function* scatterRun(
  schema: Schema,
  columns: (Data[] | undefined)[],
  sizes: readonly number[],
  order: Uint32Array,
  rowsPerBatch: number,
): Generator<RecordBatch> {
  const n = order.length;
  if (n === 0) return;
  const rows = Math.max(1, rowsPerBatch);
  const windowRows = Math.ceil(Math.ceil(n / rows) / WINDOWS) * rows;
  const windows = movesByWindow(order, sizes, windowRows);
  let fallback: { from: Uint32Array; rows: Uint32Array } | undefined;
  for (let w = 0, k0 = 0; k0 < n; w++, k0 += windowRows) {
    const span = Math.min(windowRows, n - k0);
    const batches: Batches = { k0, span, rows, count: Math.ceil(span / rows), moves: windows[w]! };
    const built: (ColumnBatches | undefined)[] = schema.fields.map((field, c) => {
      const chunks = columns[c]!;
      const scattered = scatterColumn(field, chunks, batches);
      if (scattered) return scattered;
      fallback ??= sourcePlan(order, sizes);
      const out: Data[] = [];
      for (let b = 0; b < batches.count; b++) {
        const at = k0 + b * rows;
        const end = at + batchLength(batches, b);
        out.push(
          gatherColumn(field, chunks, {
            from: fallback.from.subarray(at, end),
            rows: fallback.rows.subarray(at, end),
            length: end - at,
          }),
        );
      }
      return out;
    });
    windows[w] = undefined as never;
    // the last window needs the sources no more: drop them before its batches go
    if (k0 + windowRows >= n) columns.fill(undefined);
    for (let b = 0; b < batches.count; b++) {
      const length = batchLength(batches, b);
      const children = built.map((column) => {
        const data = column![b]!;
        column![b] = undefined as never; // yielded batches are the consumer's to keep or drop
        return data;
      });
      yield makeRecordBatchFast(
        schema,
        makeData({ type: new Struct(schema.fields), length, nullCount: 0, children }) as Data<Struct>,
      );
    }
  }
}

/** Each window's {@link Moves}: one pass over the sources in order, a count and a fill. */
function movesByWindow(order: Uint32Array, sizes: readonly number[], windowRows: number): Moves[] {
  const n = order.length;
  const inverse = new Uint32Array(n);
  for (let k = 0; k < n; k++) inverse[order[k]!] = k;
  const count = Math.ceil(n / windowRows);
  const starts = new Uint32Array(count + 1);
  for (let g = 0; g < n; g++) starts[((inverse[g]! / windowRows) | 0) + 1]!++;
  for (let w = 0; w < count; w++) starts[w + 1]! += starts[w]!;
  const chunk = new Uint32Array(n);
  const row = new Uint32Array(n);
  const to = new Uint32Array(n);
  const at = starts.slice(0, count);
  let g = 0;
  for (let s = 0; s < sizes.length; s++) {
    for (let i = 0; i < sizes[s]!; i++, g++) {
      const k = inverse[g]!;
      const w = (k / windowRows) | 0;
      const e = at[w]!++;
      chunk[e] = s;
      row[e] = i;
      to[e] = k - w * windowRows;
    }
  }
  return Array.from({ length: count }, (_, w) => ({
    chunk: chunk.subarray(starts[w]!, starts[w + 1]!),
    row: row.subarray(starts[w]!, starts[w + 1]!),
    to: to.subarray(starts[w]!, starts[w + 1]!),
  }));
}

/** Each output row's source batch and row within it (for columns gathered, not scattered). */
function sourcePlan(order: Uint32Array, sizes: readonly number[]): { from: Uint32Array; rows: Uint32Array } {
  const starts = new Uint32Array(sizes.length + 1);
  for (let s = 0; s < sizes.length; s++) starts[s + 1] = starts[s]! + sizes[s]!;
  const sourceOf = new Uint32Array(starts[sizes.length]!);
  for (let s = 0; s < sizes.length; s++) sourceOf.fill(s, starts[s]!, starts[s + 1]!);
  const n = order.length;
  const from = new Uint32Array(n);
  const rows = new Uint32Array(n);
  for (let k = 0; k < n; k++) {
    const g = order[k]!;
    const s = sourceOf[g]!;
    from[k] = s;
    rows[k] = g - starts[s]!;
  }
  return { from, rows };
}

/** Column `field` scattered into its output batches, or undefined for a type gathered instead. */
function scatterColumn(field: Field, chunks: readonly Data[], batches: Batches): Data[] | undefined {
  const type = field.type as DataType;
  if (isFixedWidth(type)) {
    const slots = scatterSlots(chunks, batches);
    return slots && withValidity(type, chunks, batches, slots);
  }
  switch (type.typeId) {
    case Type.Null:
      return Array.from({ length: batches.count }, (_, b) => {
        const length = batchLength(batches, b);
        return makeData({ type: type as never, length, nullCount: length }) as Data;
      });
    case Type.Bool:
      return withValidity(type, chunks, batches, scatterBits(chunks, batches));
    case Type.Dictionary: {
      const first = chunks[0]!;
      if (!chunks.every((d) => d.dictionary === first.dictionary)) return undefined;
      const slots = scatterSlots(chunks, batches);
      return slots && withValidity(type, chunks, batches, slots, undefined, first.dictionary);
    }
    case Type.Utf8:
    case Type.Binary: {
      const text = scatterText(chunks, batches);
      return text && withValidity(type, chunks, batches, text.bytes, text.ends);
    }
    default:
      return undefined;
  }
}

/** The Data of each output batch, from its values (and offsets), with the validity scattered. */
function withValidity(
  type: DataType,
  chunks: readonly Data[],
  batches: Batches,
  values: ArrayBufferView[],
  offsets?: Int32Array[],
  dictionary?: Data['dictionary'],
): Data[] {
  const validity = scatterValidity(chunks, batches);
  return values.map(
    (v, b) =>
      new Data(
        type,
        0,
        batchLength(batches, b),
        validity?.nullCounts[b] ?? 0,
        [offsets?.[b], v, validity?.bitmaps[b]] as never,
        [],
        dictionary,
      ),
  );
}

/** Per output batch, a validity bitmap and its null count; undefined when no source has a null. */
function scatterValidity(
  chunks: readonly Data[],
  batches: Batches,
): { bitmaps: Uint8Array[]; nullCounts: Int32Array } | undefined {
  if (!chunks.some((d) => d.nullCount > 0)) return undefined;
  const bitmaps = Array.from({ length: batches.count }, (_, b) => bitmapFor(batchLength(batches, b)));
  const nullCounts = new Int32Array(batches.count);
  const per = batches.rows;
  const { chunk, row, to } = batches.moves;
  const m = chunk.length;
  for (let e = 0; e < m; ) {
    const d = chunks[chunk[e]!]!;
    const bits = d.nullBitmap;
    // no bitmap: all valid, or (null count = length) all null
    const allValid = d.nullCount === 0 || ((!bits || bits.length === 0) && d.nullCount !== d.length);
    const hasBits = !allValid && bits !== undefined && bits !== null && bits.length > 0;
    for (const s = chunk[e]; e < m && chunk[e] === s; e++) {
      const k = to[e]!;
      const b = (k / per) | 0;
      const local = k - b * per;
      let valid = allValid;
      if (hasBits) {
        const at = d.offset + row[e]!;
        valid = ((bits![at >> 3]! >> (at & 7)) & 1) === 1;
      }
      if (valid) bitmaps[b]![local >> 3]! |= 1 << (local & 7);
      else nullCounts[b]!++;
    }
  }
  return { bitmaps, nullCounts };
}

/** A zeroed bitmap for `length` bits, padded to 64 bits as Arrow asks. */
function bitmapFor(length: number): Uint8Array {
  return new Uint8Array(((length + 63) >> 6) << 3);
}

/** Boolean values (bits at the chunk's offset) into one bitmap per output batch. */
function scatterBits(chunks: readonly Data[], batches: Batches): Uint8Array[] {
  const out = Array.from({ length: batches.count }, (_, b) => bitmapFor(batchLength(batches, b)));
  const per = batches.rows;
  const { chunk, row, to } = batches.moves;
  const m = chunk.length;
  for (let e = 0; e < m; ) {
    const d = chunks[chunk[e]!]!;
    const bits = d.values as Uint8Array;
    for (const s = chunk[e]; e < m && chunk[e] === s; e++) {
      const at = d.offset + row[e]!;
      if (((bits[at >> 3]! >> (at & 7)) & 1) === 0) continue;
      const k = to[e]!;
      const b = (k / per) | 0;
      const local = k - b * per;
      out[b]![local >> 3]! |= 1 << (local & 7);
    }
  }
  return out;
}

type Slots = ArrayLike<number | bigint> & { [i: number]: number | bigint };
type SlotsConstructor = new (length: number) => Slots & ArrayBufferView;

/**
 * Fixed-width values into one typed array per output batch (of the sources' own array type).
 * Values of 4-byte multiples are moved as 32-bit words: a bigint is not boxed and a NaN keeps its
 * bits. Undefined when the sources' arrays differ in type or width.
 */
function scatterSlots(chunks: readonly Data[], batches: Batches): ArrayBufferView[] | undefined {
  const first = chunks[0]!;
  const values = first.values as unknown as Slots & ArrayBufferView & { BYTES_PER_ELEMENT: number };
  const Ctor = values.constructor as SlotsConstructor;
  const stride = first.stride;
  if (!chunks.every((d) => (d.values as object).constructor === Ctor && d.stride === stride)) return undefined;
  const out = Array.from({ length: batches.count }, (_, b) => new Ctor(batchLength(batches, b) * stride));
  const width = values.BYTES_PER_ELEMENT * stride;
  const words = width % 4 === 0 && chunks.every((d) => (d.values as ArrayBufferView).byteOffset % 4 === 0);
  if (words) {
    const sources = chunks.map((d) => {
      const v = d.values as unknown as ArrayBufferView;
      return new Int32Array(v.buffer, v.byteOffset, v.byteLength >> 2);
    });
    const targets = out.map((v) => new Int32Array(v.buffer, v.byteOffset, v.byteLength >> 2));
    moveSlots(sources, targets, batches, width >> 2);
  } else {
    const sources = chunks.map((d) => d.values as unknown as Slots);
    moveSlots(sources, out as unknown as Slots[], batches, stride);
  }
  return out;
}

/** Copies `stride` elements a row from the sources to their output batch and row, by the window's moves. */
function moveSlots<T extends Slots>(
  sources: readonly T[],
  targets: readonly T[],
  batches: Batches,
  stride: number,
): void {
  const per = batches.rows;
  const { chunk, row, to } = batches.moves;
  const m = chunk.length;
  for (let e = 0; e < m; ) {
    const src = sources[chunk[e]!]!;
    const s = chunk[e];
    if (stride === 1) {
      for (; e < m && chunk[e] === s; e++) {
        const k = to[e]!;
        const b = (k / per) | 0;
        targets[b]![k - b * per] = src[row[e]!]!;
      }
      continue;
    }
    for (; e < m && chunk[e] === s; e++) {
      const k = to[e]!;
      const b = (k / per) | 0;
      const target = targets[b]!;
      const at = (k - b * per) * stride;
      const from = row[e]! * stride;
      for (let x = 0; x < stride; x++) target[at + x] = src[from + x]!;
    }
  }
}

/**
 * Strings or bytes (32-bit offsets): each value's length put at its output row, the offsets of
 * each output batch summed from them, then the bytes copied from the sources in order to their
 * places. Undefined when a batch's bytes would pass 32-bit offsets.
 */
function scatterText(
  chunks: readonly Data[],
  batches: Batches,
): { bytes: Uint8Array[]; ends: Int32Array[] } | undefined {
  const per = batches.rows;
  const { chunk, row, to } = batches.moves;
  const m = chunk.length;
  const lengths = new Int32Array(batches.span);
  for (let e = 0; e < m; ) {
    const o = chunks[chunk[e]!]!.valueOffsets as Int32Array;
    for (const s = chunk[e]; e < m && chunk[e] === s; e++) {
      const i = row[e]!;
      lengths[to[e]!] = o[i + 1]! - o[i]!;
    }
  }
  const ends: Int32Array[] = [];
  const bytes: Uint8Array[] = [];
  const views: DataView[] = [];
  for (let b = 0; b < batches.count; b++) {
    const count = batchLength(batches, b);
    const e = new Int32Array(count + 1);
    let total = 0;
    for (let j = 0, k = b * per; j < count; j++, k++) {
      total += lengths[k]!;
      if (total > 2 ** 31 - 1) return undefined;
      e[j + 1] = total;
    }
    ends.push(e);
    const out = new Uint8Array(total);
    bytes.push(out);
    views.push(new DataView(out.buffer));
  }
  for (let e = 0; e < m; ) {
    const d = chunks[chunk[e]!]!;
    const o = d.valueOffsets as Int32Array;
    const v = d.values as Uint8Array;
    const view = new DataView(v.buffer, v.byteOffset, v.byteLength);
    for (const s = chunk[e]; e < m && chunk[e] === s; e++) {
      const k = to[e]!;
      const b = (k / per) | 0;
      const i = row[e]!;
      copyValue(v, view, o[i]!, o[i + 1]!, bytes[b]!, views[b]!, ends[b]![k - b * per]!);
    }
  }
  return { bytes, ends };
}
