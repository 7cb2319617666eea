/**
 * Appends a filter's kept rows of an Arrow column (its source batch and the indices of the rows
 * kept) to a {@link ColumnBuffer}, read where they are. The exact copies that are most of what a
 * pipeline writes (strings and binaries, doubles, integers and timestamps of the column's own
 * type, booleans) go row by row from the source's buffers, a run of adjacent rows' bytes in one
 * copy; anything else (a conversion, a dictionary, decimals) first selects the rows into new
 * Data and appends that as {@link appendArrow} does, so the two never differ.
 *
 * Why: a `filter` (and a `map(row => ({ ...row, k }))` after it) hands toParquet a selection.
 * Copied out into a new batch first, every kept row was copied twice, and the new batch's
 * buffers were garbage at once: on 3M trades rows, `filter -> map({ ...row }) -> toParquet` spent
 * 300 ms in that copy and most of its 300 ms of garbage collection.
 */
import type { Data, DataType } from 'apache-arrow';
import { selectData, type RowSelection } from '../../arrow/select.ts';
import { appendArrow, ARROW_UNIT_NS, KIND_UNIT_NS } from './arrow.ts';
import { intRange, type ColumnBuffer } from './column-buffer.ts';
import type { ColumnKind } from './schema.ts';
import { copyShort, viewOf } from '../../csv/fast/cells.ts';

type Slots = ArrayLike<number | bigint> & { [i: number]: number | bigint };

interface SourceData {
  type: DataType & { unit?: number };
  offset: number;
  nullCount: number;
  nullBitmap: Uint8Array | undefined;
  values: Slots;
  valueOffsets: Int32Array | BigInt64Array | undefined;
}

/** Rows `rows[start, start + count)`, as a selection of their own (no copy for a typed array). */
export function rowsAt(rows: RowSelection, start: number, count: number): RowSelection {
  if (start === 0 && count === rows.length) return rows;
  if (ArrayBuffer.isView(rows)) return (rows as unknown as Int32Array).subarray(start, start + count);
  return Array.prototype.slice.call(rows, start, start + count) as number[];
}

/**
 * {@link appendArrow} for rows `rows[start, start + count)` of `data`. Returns undefined when
 * done, or why the values do not fit `col` exactly (then nothing was appended).
 */
export function appendArrowRows(
  col: ColumnBuffer,
  data: Data<DataType>,
  source: ColumnKind,
  rows: RowSelection,
  start: number,
  count: number,
): string | undefined {
  const d = data as unknown as SourceData;
  const copy = exactCopy(col, d, source);
  if (copy === undefined) return appendArrow(col, selectData(data, rowsAt(rows, start, count)), source, 0, count);
  const nullCount = nullsAt(d, rows, start, count);
  if (nullCount > 0 && !col.nullable)
    return `${nullCount} null value${nullCount === 1 ? '' : 's'} for a non-nullable column`;
  if (count === 0) return undefined;
  col.reserve(count);
  const at = col.n;
  copy(col, d, rows, start, count, at);
  if (col.nullable) {
    const defs = col.defs;
    if (nullCount === 0) defs.fill(1, at, at + count);
    else for (let k = 0; k < count; k++) defs[at + k] = validAt(d, rows[start + k]!);
    col.nulls += nullCount;
  }
  col.n = at + count;
  return undefined;
}

type Copy = (col: ColumnBuffer, d: SourceData, rows: RowSelection, start: number, count: number, at: number) => void;

/** How `source` values go into `col` unchanged, or undefined when appendArrow converts them. */
function exactCopy(col: ColumnBuffer, d: SourceData, source: ColumnKind): Copy | undefined {
  if ((d.type.typeId as number) === -1) return undefined; // a dictionary: decoded by appendArrow
  switch (col.storage) {
    case 'bytes': {
      // not into a column of nulls so far (kind null): appendArrow widens it first
      return source === col.kind && d.valueOffsets instanceof Int32Array ? copyBytes : undefined;
    }
    case 'f64':
      return source === 'double' ? copyF64 : undefined;
    case 'i32':
      return source === col.kind && source !== 'uint32' && intRange(source) !== undefined ? copyI32 : undefined;
    case 'i64': {
      const unit = KIND_UNIT_NS[col.kind];
      const same =
        unit === undefined
          ? source === col.kind && (source === 'int64' || source === 'uint64')
          : KIND_UNIT_NS[source] !== undefined && ARROW_UNIT_NS[d.type.unit!] === unit;
      return same ? copyI64 : undefined;
    }
    case 'bool':
      return source === 'boolean' ? copyBits : undefined;
    default:
      return undefined;
  }
}

// one function per storage: a loop over every typed array kind would be slow for all of them
function copyF64(col: ColumnBuffer, d: SourceData, rows: RowSelection, start: number, count: number, at: number) {
  const out = col.f64;
  const values = d.values as unknown as Float64Array;
  for (let k = 0; k < count; k++) out[at + k] = values[rows[start + k]!]!;
}

function copyI32(col: ColumnBuffer, d: SourceData, rows: RowSelection, start: number, count: number, at: number) {
  const out = col.i32;
  const values = d.values as unknown as Int32Array;
  for (let k = 0; k < count; k++) out[at + k] = values[rows[start + k]!]!;
}

function copyI64(col: ColumnBuffer, d: SourceData, rows: RowSelection, start: number, count: number, at: number) {
  const out = col.i64;
  const values = d.values as unknown as BigInt64Array;
  for (let k = 0; k < count; k++) out[at + k] = values[rows[start + k]!]!;
}

function copyBits(col: ColumnBuffer, d: SourceData, rows: RowSelection, start: number, count: number, at: number) {
  const bits = d.values as unknown as Uint8Array;
  const out = col.bool;
  for (let k = 0; k < count; k++) {
    const bit = d.offset + rows[start + k]!;
    out[at + k] = (bits[bit >> 3]! >> (bit & 7)) & 1;
  }
}

/** Each row's bytes and offset; a run of adjacent rows is one copy (a short one byte by byte). */
function copyBytes(col: ColumnBuffer, d: SourceData, rows: RowSelection, start: number, count: number, at: number) {
  const offsets = d.valueOffsets as Int32Array;
  const bytes = d.values as unknown as Uint8Array;
  let total = 0;
  for (let k = 0; k < count; k++) {
    const i = rows[start + k]!;
    total += offsets[i + 1]! - offsets[i]!;
  }
  col.reserveBytes(total);
  const data = col.data;
  const to4 = viewOf(data);
  const from4 = viewOf(bytes);
  const out = col.offsets;
  let pos = col.byteLength;
  let k = 0;
  while (k < count) {
    let i = rows[start + k]!;
    const from = offsets[i]!;
    const to = pos;
    for (;;) {
      pos += offsets[i + 1]! - offsets[i]!;
      out[at + ++k] = pos;
      if (k >= count || rows[start + k] !== i + 1) break;
      i++;
    }
    const len = pos - to;
    if (len <= 64) copyShort(from4, from, from + len, to4, to);
    else data.set(bytes.subarray(from, from + len), to);
  }
  col.byteLength = pos;
}

function validAt(d: SourceData, i: number): number {
  const bit = d.offset + i;
  return (d.nullBitmap![bit >> 3]! >> (bit & 7)) & 1;
}

function nullsAt(d: SourceData, rows: RowSelection, start: number, count: number): number {
  if (d.nullCount === 0 || d.nullBitmap === undefined) return (d.type.typeId as number) === 1 ? count : 0;
  let valid = 0;
  for (let k = 0; k < count; k++) valid += validAt(d, rows[start + k]!);
  return count - valid;
}

/** Bytes that rows `rows[start, start + k)` of `data` add to a column (the writer's row group bound). */
export function arrowBytesAt(
  data: Data<DataType>,
  storageWidth: number,
  nullable: boolean,
  rows: RowSelection,
  start: number,
  k: number,
): number {
  const offsets = (data as unknown as SourceData).valueOffsets;
  let bytes = k * (storageWidth + (nullable ? 1 : 0));
  if (offsets !== undefined)
    for (let j = start; j < start + k; j++) bytes += Number(offsets[rows[j]! + 1]!) - Number(offsets[rows[j]!]!);
  return bytes;
}
