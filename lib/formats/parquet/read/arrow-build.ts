/**
 * Arrow Data of one flat column from decoded Parquet values: validity bitmaps, fixed-width
 * buffers, booleans, variable-width bytes and strings, decimals. The values are either a typed
 * array (a required column's page, used as the Arrow buffer when it can be) or a JS array with
 * null (or undefined) for the nulls, as nested columns hand over a leaf's values. Shared by the
 * top-level plans (`arrow.ts`) and the nested ones (`arrow-nested.ts`).
 */
import { Bool, makeData } from 'apache-arrow';
import type { Binary, Data, DataType, Decimal, Utf8 } from 'apache-arrow';
import type { DecodedArray } from 'hyparquet';
import { isUtf8 } from 'node:buffer';
import { FormatError, UnsupportedError } from '../../../core/errors.ts';
import { bytesToSignedBigInt } from './values.ts';
import type { InvalidUtf8 } from './values.ts';

/** A typed array Arrow takes as a fixed-width buffer. */
export type Typed = Exclude<DecodedArray, unknown[]> | Int8Array | Int16Array | Uint16Array;
/** The constructor of a {@link Typed} array. */
export type TypedCtor = new (n: number | ArrayBufferLike, offset?: number, length?: number) => Typed;

const encoder = new TextEncoder();

/** The validity bitmap of `n` values (undefined when none is null) and the null count. */
export function validity(values: ArrayLike<unknown>, n: number): { bitmap: Uint8Array | undefined; nullCount: number } {
  if (!Array.isArray(values)) return { bitmap: undefined, nullCount: 0 };
  let nullCount = 0;
  for (let i = 0; i < n; i++) if (values[i] === null || values[i] === undefined) nullCount++;
  if (nullCount === 0) return { bitmap: undefined, nullCount };
  const bitmap = new Uint8Array(((n + 63) >> 6) << 3);
  for (let i = 0; i < n; i++) if (values[i] !== null && values[i] !== undefined) bitmap[i >> 3]! |= 1 << (i & 7);
  return { bitmap, nullCount };
}

function isBig(a: unknown): boolean {
  return a instanceof BigInt64Array || a instanceof BigUint64Array;
}

/** A typed page as the buffer of `Ctor`: as it is, reinterpreted (same width), or copied. */
function typedBuffer(Ctor: TypedCtor, values: Typed, n: number, bigint: boolean): Typed {
  if (values instanceof Ctor) return values;
  if (values.BYTES_PER_ELEMENT === new Ctor(0).BYTES_PER_ELEMENT && isBig(values) === bigint) {
    return new Ctor(values.buffer, values.byteOffset, values.length); // same bits, other signedness
  }
  if (!bigint && !isBig(values)) {
    const data = new Ctor(values.length);
    (data as Float64Array).set(values as Float64Array);
    return data;
  }
  const data = new Ctor(n) as unknown as unknown[];
  for (let i = 0; i < n; i++) data[i] = bigint ? BigInt(values[i] as number) : Number(values[i]);
  return data as unknown as Typed;
}

/** A fixed-width column (numbers, dates, times, timestamps) of `type` in a `Ctor` buffer. */
export function fixed(type: DataType, Ctor: TypedCtor, values: DecodedArray, n: number): Data {
  const bigint = Ctor === (BigInt64Array as unknown) || Ctor === (BigUint64Array as unknown);
  if (!Array.isArray(values)) {
    const data = typedBuffer(Ctor, values as Typed, n, bigint);
    return makeData({ type, length: n, nullCount: 0, data } as never);
  }
  const { bitmap, nullCount } = validity(values, n);
  const data = new Ctor(n) as unknown as unknown[];
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (v === null || v === undefined) continue;
    data[i] = bigint ? (typeof v === 'bigint' ? v : BigInt(v as number)) : typeof v === 'bigint' ? Number(v) : v;
  }
  return makeData({ type, length: n, nullCount, nullBitmap: bitmap, data } as never);
}

/** A Bool column. */
export function bool(values: DecodedArray, n: number): Data {
  const { bitmap, nullCount } = validity(values, n);
  const bits = new Uint8Array(((n + 63) >> 6) << 3);
  for (let i = 0; i < n; i++) if (values[i] === true) bits[i >> 3]! |= 1 << (i & 7);
  return makeData({ type: new Bool(), length: n, nullCount, nullBitmap: bitmap, data: bits } as never);
}

/** Utf8 or Binary from byte arrays (copied once into one buffer) or strings. */
export function varBinary(type: Utf8 | Binary, values: DecodedArray, n: number): Data {
  const { bitmap, nullCount } = validity(values, n);
  const parts = new Array<Uint8Array | undefined>(n);
  let total = 0;
  for (let i = 0; i < n; i++) {
    const v = values[i] as unknown;
    if (v === null || v === undefined) continue;
    const bytes = typeof v === 'string' ? encoder.encode(v) : (v as Uint8Array);
    parts[i] = bytes;
    total += bytes.length;
  }
  if (total > 0x7fffffff)
    throw new UnsupportedError(
      `A Parquet column holds more than 2 GiB of bytes in one batch; use a smaller batchSize`,
      {},
    );
  const offsets = new Int32Array(n + 1);
  const data = new Uint8Array(total);
  let at = 0;
  for (let i = 0; i < n; i++) {
    const bytes = parts[i];
    if (bytes) {
      const len = bytes.length;
      if (len < 16) for (let k = 0; k < len; k++) data[at + k] = bytes[k]!;
      else data.set(bytes, at);
      at += len;
    }
    offsets[i + 1] = at;
  }
  return makeData({ type, length: n, nullCount, nullBitmap: bitmap, valueOffsets: offsets, data } as never);
}

/** Utf8 from decoded byte arrays, refusing (or replacing) invalid UTF-8 as the rows path does. */
export function utf8(
  type: Utf8,
  values: DecodedArray,
  n: number,
  column: string,
  mode: InvalidUtf8,
  file: string,
): Data {
  const data = varBinary(type, values, n);
  const bytes = data.values as Uint8Array;
  if (isUtf8(bytes)) return data;
  if (mode === 'replace') {
    const decoder = new TextDecoder('utf-8');
    const text = new Array<string | null>(n);
    for (let i = 0; i < n; i++) {
      const v = values[i] as unknown;
      text[i] = v === null || v === undefined ? null : typeof v === 'string' ? v : decoder.decode(v as Uint8Array);
    }
    return varBinary(type, text, n);
  }
  throw new FormatError(
    `Invalid UTF-8 in string column \`${column}\`; open with invalidUtf8: 'replace' to read it with U+FFFD`,
    { file },
  );
}

/** Decimal128/256 from unscaled values: numbers (any safe integer), bigints or big-endian bytes. */
export function decimal(type: Decimal, values: DecodedArray, n: number): Data {
  const { bitmap, nullCount } = validity(values, n);
  const stride = type.bitWidth / 32;
  const words = new Uint32Array(n * stride);
  for (let i = 0; i < n; i++) {
    const v = values[i] as unknown;
    if (v === null || v === undefined) continue;
    if (typeof v === 'number' && v === (v | 0)) {
      words[i * stride] = v >>> 0;
      if (v < 0) words.fill(0xffffffff, i * stride + 1, (i + 1) * stride);
      continue;
    }
    // a 64-bit unscaled value narrowed to a number (nested pages) is a safe integer, exact as a bigint
    const big = typeof v === 'bigint' ? v : typeof v === 'number' ? BigInt(v) : bytesToSignedBigInt(v as Uint8Array);
    for (let w = 0; w < stride; w++) words[i * stride + w] = Number(BigInt.asUintN(32, big >> BigInt(32 * w)));
  }
  return makeData({ type, length: n, nullCount, nullBitmap: bitmap, data: words } as never);
}
