/**
 * Appends Arrow column data to a {@link ColumnBuffer} in bulk: fixed-width values with
 * TypedArray.set, byte arrays with one copy of the value bytes plus an offsets loop, validity from
 * the bitmap. A value is converted only when the conversion is exact (int32 into a double column,
 * an int64 that fits into an int32 column, ...); otherwise nothing is appended and the reason is
 * returned, for the writer to widen the column or raise.
 */
import type { Data, DataType, Field } from 'apache-arrow';
import { JSON_METADATA_KEY } from '../../arrow/convert.ts';
import type { ColumnBuffer } from './column-buffer.ts';
import { intRange } from './column-buffer.ts';
import { kindOfArrow, type ColumnKind } from './schema.ts';

/** The kind an Arrow field is written as (undefined: not writable). */
export function kindOfField(field: Field): ColumnKind | undefined {
  const kind = kindOfArrow(field.type);
  if (kind === 'string' && field.metadata.get(JSON_METADATA_KEY) === 'true') return 'json';
  return kind;
}

type AnyData = Data<DataType> & {
  values: ArrayLike<number | bigint> & {
    buffer: ArrayBufferLike;
    byteOffset: number;
    length: number;
    subarray(a: number, b: number): ArrayLike<number | bigint>;
  };
  valueOffsets: Int32Array | BigInt64Array;
  nullBitmap: Uint8Array | undefined;
  dictionary?: { data: Data<DataType>[] };
};

const MS_PER_DAY = 86_400_000;

/** Timestamp multipliers to nanoseconds by Arrow unit (s, ms, us, ns) and by kind. */
const ARROW_UNIT_NS = [1_000_000_000n, 1_000_000n, 1000n, 1n];
const KIND_UNIT_NS: Partial<Record<ColumnKind, bigint>> = {
  timestamp: 1_000_000n,
  timestamp_us: 1000n,
  timestamp_ns: 1n,
};

/**
 * Appends rows [start, start + count) of `data` (written as `source` kind) to `col`. Returns
 * undefined when done, or why the values do not fit `col` exactly (then nothing was appended).
 */
export function appendArrow(
  col: ColumnBuffer,
  data: Data<DataType>,
  source: ColumnKind,
  start: number,
  count: number,
): string | undefined {
  const d = data as AnyData;
  const nullCount = count === d.length ? d.nullCount : countNulls(d, start, count);
  if (nullCount > 0 && !col.nullable)
    return `${nullCount} null value${nullCount === 1 ? '' : 's'} for a non-nullable column`;
  if (count === 0) return undefined;
  col.reserve(count);
  const at = col.n;
  if (source === 'null') {
    for (let k = 0; k < count; k++) col.pushNull();
    return undefined;
  }
  const failure = appendValues(col, d, source, start, count, at);
  if (failure !== undefined) return failure;
  col.markValid(count, d.nullBitmap, d.offset + start, nullCount);
  col.n = at + count;
  return undefined;
}

function countNulls(d: AnyData, start: number, count: number): number {
  if (d.nullCount === 0 || d.nullBitmap === undefined) return (d.type.typeId as number) === 1 ? count : 0;
  const bitmap = d.nullBitmap;
  let valid = 0;
  for (let k = 0; k < count; k++) {
    const bit = d.offset + start + k;
    valid += (bitmap[bit >> 3]! >> (bit & 7)) & 1;
  }
  return count - valid;
}

function isValid(d: AnyData, i: number): boolean {
  if (d.nullBitmap === undefined || d.nullCount === 0) return true;
  const bit = d.offset + i;
  return ((d.nullBitmap[bit >> 3]! >> (bit & 7)) & 1) === 1;
}

function appendValues(
  col: ColumnBuffer,
  d: AnyData,
  source: ColumnKind,
  start: number,
  count: number,
  at: number,
): string | undefined {
  const target = col.kind;
  switch (col.storage) {
    case 'bytes':
      return appendBytes(col, d, source, start, count, at);
    case 'bool': {
      if (source !== 'boolean') return mismatch(source, target);
      const bits = d.values as unknown as Uint8Array;
      const out = col.bool;
      for (let k = 0; k < count; k++) {
        const bit = d.offset + start + k;
        out[at + k] = (bits[bit >> 3]! >> (bit & 7)) & 1;
      }
      return undefined;
    }
    case 'f64':
    case 'f32': {
      const out = col.storage === 'f64' ? col.f64 : col.f32;
      if (source === 'double' || source === 'float' || (intRange(source) !== undefined && source !== 'uint32')) {
        if (col.storage === 'f32' && source !== 'float')
          return checkedLoop(
            out,
            d,
            start,
            count,
            at,
            (v) => (Math.fround(Number(v)) === Number(v) ? Number(v) : undefined),
            source,
            target,
          );
        out.set(d.values.subarray(start, start + count) as Float64Array, at);
        return undefined;
      }
      if (source === 'uint32' || source === 'int64' || source === 'uint64') {
        return checkedLoop(
          out,
          d,
          start,
          count,
          at,
          (v) => {
            const n = source === 'uint32' ? Number(v) >>> 0 : Number(v);
            if (!Number.isSafeInteger(n)) return undefined;
            return col.storage === 'f32' && Math.fround(n) !== n ? undefined : n;
          },
          source,
          target,
        );
      }
      return mismatch(source, target);
    }
    case 'i32': {
      const out = col.i32;
      if (target === 'date') {
        if (source !== 'date') return mismatch(source, target);
        if ((d.type as DataType & { unit: number }).unit === 0) {
          out.set(d.values.subarray(start, start + count) as Int32Array, at);
          return undefined;
        }
        return checkedLoop(
          out,
          d,
          start,
          count,
          at,
          (v) => {
            const ms = Number(v);
            return ms % MS_PER_DAY === 0 ? ms / MS_PER_DAY : undefined;
          },
          source,
          target,
        );
      }
      const range = intRange(target)!;
      const from = intRange(source);
      if (from !== undefined && from[0] >= range[0] && from[1] <= range[1] && source !== 'uint32') {
        out.set(d.values.subarray(start, start + count) as Int32Array, at);
        return undefined;
      }
      if (source === 'uint32' && target === 'uint32') {
        const v = d.values as unknown as Uint32Array;
        out.set(new Int32Array(v.buffer, v.byteOffset + start * 4, count), at);
        return undefined;
      }
      if (
        from !== undefined ||
        source === 'int64' ||
        source === 'uint64' ||
        source === 'double' ||
        source === 'float'
      ) {
        return checkedLoop(
          out,
          d,
          start,
          count,
          at,
          (v) => {
            const n = source === 'uint32' ? Number(v) >>> 0 : Number(v);
            if (typeof v === 'bigint' && BigInt(n) !== v) return undefined;
            if (!Number.isInteger(n) || Object.is(n, -0) || n < range[0] || n > range[1]) return undefined;
            return target === 'uint32' ? n | 0 : n;
          },
          source,
          target,
        );
      }
      return mismatch(source, target);
    }
    case 'i64': {
      const out = col.i64;
      const targetUnit = KIND_UNIT_NS[target];
      if (targetUnit !== undefined) {
        if (KIND_UNIT_NS[source] === undefined) return mismatch(source, target);
        const unit = ARROW_UNIT_NS[(d.type as DataType & { unit: number }).unit]!;
        if (unit === targetUnit) {
          out.set(d.values.subarray(start, start + count) as BigInt64Array, at);
          return undefined;
        }
        return checkedLoop(
          out,
          d,
          start,
          count,
          at,
          (v) => {
            const ns = BigInt(v) * unit;
            return ns % targetUnit === 0n ? ns / targetUnit : undefined;
          },
          source,
          target,
        );
      }
      const signed = target === 'int64';
      if (source === target) {
        out.set(d.values.subarray(start, start + count) as BigInt64Array, at);
        return undefined;
      }
      const from = intRange(source);
      if (from !== undefined && (signed || from[0] >= 0)) {
        const v = d.values;
        for (let k = 0; k < count; k++) out[at + k] = BigInt(v[start + k]!);
        return undefined;
      }
      if (
        source === 'int64' ||
        source === 'uint64' ||
        source === 'double' ||
        source === 'float' ||
        from !== undefined
      ) {
        return checkedLoop(
          out,
          d,
          start,
          count,
          at,
          (v) => {
            if (typeof v === 'number' && (!Number.isInteger(v) || Object.is(v, -0))) return undefined;
            const b = BigInt(v);
            if (signed ? b < -(2n ** 63n) || b >= 2n ** 63n : b < 0n || b >= 2n ** 64n) return undefined;
            return BigInt.asIntN(64, b);
          },
          source,
          target,
        );
      }
      return mismatch(source, target);
    }
  }
}

function mismatch(source: ColumnKind, target: ColumnKind): string {
  return `${source} values cannot be written exactly as ${target}`;
}

/** Converts value by value (nulls skipped); stops at the first value that does not fit. */
function checkedLoop<T extends number | bigint>(
  out: { [i: number]: T },
  d: AnyData,
  start: number,
  count: number,
  at: number,
  convert: (v: number | bigint) => T | undefined,
  source: ColumnKind,
  target: ColumnKind,
): string | undefined {
  const values = d.values;
  for (let k = 0; k < count; k++) {
    if (!isValid(d, start + k)) continue;
    const v = values[start + k]!;
    const converted = convert(v);
    if (converted === undefined) return `${source} value ${String(v)} cannot be written exactly as ${target}`;
    out[at + k] = converted;
  }
  return undefined;
}

function appendBytes(
  col: ColumnBuffer,
  d: AnyData,
  source: ColumnKind,
  start: number,
  count: number,
  at: number,
): string | undefined {
  const target = col.kind;
  const textual = target === 'string' || target === 'json';
  if (textual ? source !== target : source !== 'binary') return mismatch(source, target);
  const out = col.offsets;
  if ((d.type.typeId as number) === -1) {
    // dictionary-encoded strings: decode through the indices
    const dict = d.dictionary!.data;
    if (dict.length !== 1) return 'a dictionary of several chunks is not supported';
    const entries = dict[0] as AnyData;
    const eo = entries.valueOffsets as Int32Array;
    const ev = entries.values as unknown as Uint8Array;
    const idx = d.values;
    for (let k = 0; k < count; k++) {
      const i = Number(idx[start + k]!);
      const s = isValid(d, start + k) ? eo[i]! : 0;
      const e = isValid(d, start + k) ? eo[i + 1]! : 0;
      col.reserveBytes(e - s);
      col.data.set(ev.subarray(s, e), col.byteLength);
      col.byteLength += e - s;
      out[at + k + 1] = col.byteLength;
    }
    return undefined;
  }
  const offsets = d.valueOffsets;
  const bytes = d.values as unknown as Uint8Array;
  if (offsets instanceof BigInt64Array) {
    for (let k = 0; k < count; k++) {
      const s = Number(offsets[start + k]!);
      const e = Number(offsets[start + k + 1]!);
      col.reserveBytes(e - s);
      col.data.set(bytes.subarray(s, e), col.byteLength);
      col.byteLength += e - s;
      out[at + k + 1] = col.byteLength;
    }
    return undefined;
  }
  const first = offsets[start]!;
  const last = offsets[start + count]!;
  col.reserveBytes(last - first);
  col.data.set(bytes.subarray(first, last), col.byteLength);
  const shift = col.byteLength - first;
  for (let k = 1; k <= count; k++) out[at + k] = offsets[start + k]! + shift;
  col.byteLength += last - first;
  return undefined;
}

/** Bytes that rows [start, start + k) of `data` add to a column (the writer's row group bound). */
export function arrowBytes(
  data: Data<DataType>,
  storageWidth: number,
  nullable: boolean,
  start: number,
  k: number,
): number {
  const d = data as AnyData;
  let bytes = k * (storageWidth + (nullable ? 1 : 0));
  if (d.valueOffsets instanceof Int32Array) bytes += d.valueOffsets[start + k]! - d.valueOffsets[start]!;
  else if (d.valueOffsets instanceof BigInt64Array)
    bytes += Number(d.valueOffsets[start + k]! - d.valueOffsets[start]!);
  return bytes;
}
