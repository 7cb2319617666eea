/**
 * VARIANT values, decoded exactly. hyparquet's variant decoder turns decimals into rounded
 * doubles; this one follows the Parquet Variant encoding spec with decimals as exact strings,
 * int64 as number when safe (bigint otherwise), timestamps as Date/PreciseDate, and merges
 * shredded `typed_value` fields (already converted by the column's converters) with the binary
 * `value`. Anything malformed is a FormatError naming the column.
 */
import { FormatError } from '../../../core/errors.ts';
import { PreciseDate } from '../../values.ts';
import { formatDecimal } from './decimal.ts';

/** A VARIANT group as hyparquet assembles it (annotation stripped). */
export interface VariantGroup {
  metadata?: Uint8Array;
  value?: Uint8Array | null;
  typed_value?: unknown;
}

const text = new TextDecoder('utf-8', { fatal: true });

class Reader {
  view: DataView;
  constructor(
    readonly bytes: Uint8Array,
    readonly column: string,
    readonly file: string,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  fail(what: string): never {
    throw new FormatError(`Corrupt VARIANT value in column \`${this.column}\`: ${what}`, { file: this.file });
  }
  need(at: number, n: number): void {
    if (at < 0 || at + n > this.bytes.length) this.fail(`reads past its ${this.bytes.length} bytes`);
  }
  uint(at: number, width: number): number {
    this.need(at, width);
    let v = 0;
    for (let k = width - 1; k >= 0; k--) v = v * 256 + this.bytes[at + k]!;
    return v;
  }
}

function dictionary(metadata: Uint8Array, column: string, file: string): string[] {
  const r = new Reader(metadata, column, file);
  const header = r.uint(0, 1);
  if ((header & 0x0f) !== 1) r.fail(`metadata version ${header & 0x0f}`);
  const width = ((header >> 6) & 0x03) + 1;
  const size = r.uint(1, width);
  const offsetsAt = 1 + width;
  const dataAt = offsetsAt + (size + 1) * width;
  r.need(offsetsAt, (size + 1) * width);
  const out = new Array<string>(size);
  for (let i = 0; i < size; i++) {
    const from = r.uint(offsetsAt + i * width, width);
    const to = r.uint(offsetsAt + (i + 1) * width, width);
    r.need(dataAt + from, to - from);
    out[i] = text.decode(metadata.subarray(dataAt + from, dataAt + to));
  }
  return out;
}

function int64(v: bigint): number | bigint {
  const n = Number(v);
  return Number.isSafeInteger(n) ? n : v;
}

function timestamp(units: bigint, perMilli: bigint): Date {
  let ms = units / perMilli;
  if (units % perMilli < 0n) ms -= 1n;
  const nanos = (units - ms * perMilli) * (1_000_000n / perMilli);
  return new PreciseDate(Number(ms), Number(nanos));
}

function readValue(r: Reader, at: number, dict: readonly string[], depth: number): unknown {
  if (depth > 128) r.fail('nests too deep');
  const header = r.uint(at, 1);
  const basic = header & 0x03;
  const h = header >> 2;
  const p = at + 1;
  if (basic === 1) {
    r.need(p, h);
    return text.decode(r.bytes.subarray(p, p + h));
  }
  if (basic === 2 || basic === 3) return readContainer(r, basic === 2, h, p, dict, depth);
  return readPrimitive(r, h, p);
}

/** An object (`isObject`, field ids into `dict`) or an array: counts, ids and offsets, then the values. */
function readContainer(r: Reader, isObject: boolean, h: number, p: number, dict: readonly string[], depth: number) {
  const offsetWidth = (h & 0x03) + 1;
  const idWidth = isObject ? ((h >> 2) & 0x03) + 1 : 0;
  const large = isObject ? (h >> 4) & 1 : (h >> 2) & 1;
  const count = r.uint(p, large ? 4 : 1);
  const idsAt = p + (large ? 4 : 1);
  const offsetsAt = idsAt + count * idWidth;
  const valuesAt = offsetsAt + (count + 1) * offsetWidth;
  const valueAt = (i: number): unknown =>
    readValue(r, valuesAt + r.uint(offsetsAt + i * offsetWidth, offsetWidth), dict, depth + 1);
  if (!isObject) return Array.from({ length: count }, (_, i) => valueAt(i));
  const out: Record<string, unknown> = {};
  for (let i = 0; i < count; i++) {
    const id = r.uint(idsAt + i * idWidth, idWidth);
    const key = dict[id];
    if (key === undefined) r.fail(`field id ${id} is not in the metadata dictionary`);
    out[key] = valueAt(i);
  }
  return out;
}

/** Fixed widths of the primitive types 3..14 (after the header byte); others size themselves. */
const PRIMITIVE_WIDTH: Record<number, number> = {
  3: 1,
  4: 2,
  5: 4,
  6: 8,
  7: 8,
  8: 5,
  9: 9,
  10: 17,
  11: 4,
  12: 8,
  13: 8,
  14: 4,
  17: 8,
  18: 8,
  19: 8,
  20: 16,
};

function readPrimitive(r: Reader, h: number, p: number): unknown {
  const v = r.view;
  const width = PRIMITIVE_WIDTH[h];
  if (width !== undefined) r.need(p, width);
  switch (h) {
    case 0:
      return null;
    case 1:
      return true;
    case 2:
      return false;
    case 3:
      return v.getInt8(p);
    case 4:
      return v.getInt16(p, true);
    case 5:
      return v.getInt32(p, true);
    case 6:
      return int64(v.getBigInt64(p, true));
    case 7:
      return v.getFloat64(p, true);
    case 8:
      return formatDecimal(BigInt(v.getInt32(p + 1, true)), v.getUint8(p));
    case 9:
      return formatDecimal(v.getBigInt64(p + 1, true), v.getUint8(p));
    case 10:
      return formatDecimal((v.getBigInt64(p + 9, true) << 64n) | v.getBigUint64(p + 1, true), v.getUint8(p));
    case 11:
      return new Date(v.getInt32(p, true) * 86_400_000);
    case 12:
    case 13:
      return timestamp(v.getBigInt64(p, true), 1000n);
    case 14:
      return v.getFloat32(p, true);
    case 15:
    case 16: {
      const n = r.uint(p, 4);
      r.need(p + 4, n);
      const bytes = r.bytes.slice(p + 4, p + 4 + n);
      return h === 15 ? bytes : text.decode(bytes);
    }
    case 17:
      return timeOfDay(r, v.getBigInt64(p, true));
    case 18:
    case 19:
      return timestamp(v.getBigInt64(p, true), 1_000_000n);
    case 20: {
      const hex = Buffer.from(r.bytes.subarray(p, p + 16)).toString('hex');
      return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
    }
    default:
      return r.fail(`unknown primitive type ${h}`);
  }
}

/** TIME in microseconds as `HH:MM:SS[.ffffff]`; outside a day it is an error, never odd text. */
function timeOfDay(r: Reader, micros: bigint): string {
  if (micros < 0n || micros > 86_400_000_000n) r.fail(`TIME ${micros} µs is outside 00:00:00..24:00:00`);
  const s = Number(micros / 1_000_000n);
  const frac = micros % 1_000_000n;
  const hms = [Math.floor(s / 3600), Math.floor((s % 3600) / 60), s % 60]
    .map((n) => String(n).padStart(2, '0'))
    .join(':');
  return frac === 0n ? hms : `${hms}.${frac.toString().padStart(6, '0').replace(/0+$/, '')}`;
}

function merge(group: VariantGroup | null | undefined, dict: readonly string[], column: string, file: string): unknown {
  if (group === null || group === undefined) return null;
  const typed = group.typed_value;
  const binary =
    group.value instanceof Uint8Array ? readValue(new Reader(group.value, column, file), 0, dict, 0) : undefined;
  if (typed === null || typed === undefined) return binary === undefined ? null : binary;
  if (Array.isArray(typed)) return typed.map((item) => merge(item as VariantGroup, dict, column, file));
  if (typed !== null && typeof typed === 'object' && !(typed instanceof Date) && !(typed instanceof Uint8Array)) {
    // a shredded object: each field is itself {value, typed_value}; leftovers sit in the binary value
    const out: Record<string, unknown> =
      binary !== undefined && binary !== null && typeof binary === 'object' ? { ...(binary as object) } : {};
    for (const [k, field] of Object.entries(typed as Record<string, VariantGroup>)) {
      const value = merge(field, dict, column, file);
      if (
        field &&
        ((field.value !== undefined && field.value !== null) ||
          (field.typed_value !== undefined && field.typed_value !== null))
      )
        out[k] = value;
    }
    return out;
  }
  return typed;
}

/**
 * Decodes one VARIANT value (`metadata` + binary `value`, with shredded `typed_value`).
 * @throws FormatError when the bytes are malformed
 */
export function decodeVariant(group: VariantGroup, column: string, file: string): unknown {
  if (!(group.metadata instanceof Uint8Array)) {
    throw new FormatError(`VARIANT column \`${column}\` has no metadata bytes`, { file });
  }
  return merge(group, dictionary(group.metadata, column, file), column, file);
}
