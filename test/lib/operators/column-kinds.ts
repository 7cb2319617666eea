/**
 * Record batches holding every column kind the scatter and the gather copy (lib/operators/
 * scatter.ts, gather.ts), with nulls, long and short text, -0, 128-bit decimals, an odd-width
 * fixed-size binary, a dictionary shared by every batch and kinds only the gather copies (64-bit
 * offsets, lists); and a comparable form of a cell, for tests that check copies value by value.
 */
import {
  Binary,
  Bool,
  type Data,
  DateDay,
  Decimal,
  Dictionary,
  Field,
  FixedSizeBinary,
  Float64,
  Int8,
  Int32,
  Int64,
  LargeUtf8,
  List,
  Null,
  RecordBatch,
  Schema,
  Struct,
  TimestampMillisecond,
  Utf8,
  makeData,
  vectorFromArray,
} from 'apache-arrow';

// Utf8 said: vectorFromArray infers a dictionary for strings, which as a dictionary's values no reader takes
export const DICTIONARY = vectorFromArray(['red', 'green', 'blue', 'été'], new Utf8());
export const FIELDS = [
  new Field('s', new Utf8(), true),
  new Field('b', new Binary(), true),
  new Field('i8', new Int8(), true),
  new Field('i32', new Int32(), true),
  new Field('i64', new Int64(), true),
  new Field('f', new Float64(), true),
  new Field('d', new Decimal(2, 20, 128), true),
  new Field('ts', new TimestampMillisecond(), true),
  new Field('day', new DateDay(), true),
  new Field('fsb', new FixedSizeBinary(3), true),
  new Field('t', new Bool(), true),
  new Field('dict', new Dictionary(new Utf8(), new Int32(), 7), true),
  new Field('n', new Null(), true),
  new Field('ls', new LargeUtf8(), true),
  new Field('list', new List(new Field('item', new Int32(), true)), true),
];
export const SCHEMA = new Schema(FIELDS);

/** The value of column `c` in row `r` of batch `b` (null now and then, a long text now and then). */
function value(c: string, b: number, r: number): unknown {
  if (c === 'n' || (b * 7 + r) % 9 === 0) return null;
  const text = `${b}:${r}${r % 4 === 0 ? ' a long value, past thirty-two bytes, é😀' : ''}`;
  switch (c) {
    case 's':
    case 'ls':
      return text;
    case 'b':
      return new TextEncoder().encode(text);
    case 'i8':
      return ((b * 31 + r) % 256) - 128;
    case 'i32':
      return b * 1000 + r;
    case 'i64':
      return BigInt(b) * 2n ** 40n - BigInt(r);
    case 'f':
      return r % 5 === 1 ? -0 : r / 8 - b;
    case 'd':
      return new Uint32Array([r, b, r % 3 ? 0 : 0xffffffff, 7]);
    case 'ts':
      return 1_700_000_000_000 + b * 86_400_000 + r;
    case 'day':
      return 19_000 + b + r;
    case 'fsb':
      return new Uint8Array([b, r, (b + r) % 256]);
    case 't':
      return r % 3 === 0;
    case 'dict':
      return ['red', 'green', 'blue', 'été'][(b + r) % 4];
    case 'list':
      return Array.from({ length: r % 3 }, (_, e) => b + r + e);
    default:
      throw new Error(c);
  }
}

/** Batch `b` of `rows` rows; `dict` shares one dictionary across batches. */
export function batch(b: number, rows: number): RecordBatch {
  const children = FIELDS.map((f) => {
    const values = Array.from({ length: rows }, (_, r) => value(f.name, b, r));
    if (f.name === 'dict') {
      const indices = vectorFromArray(
        values.map((v) => (v === null ? null : ['red', 'green', 'blue', 'été'].indexOf(v as string))),
        new Int32(),
      ).data[0]!;
      return makeData({
        type: f.type as Dictionary<Utf8, Int32>,
        length: rows,
        nullCount: indices.nullCount,
        nullBitmap: indices.nullBitmap,
        data: indices.values,
        dictionary: DICTIONARY,
      } as never) as Data;
    }
    if (f.name === 'd') return decimalData(values as (Uint32Array | null)[]);
    if (f.name === 'fsb') return fixedBinaryData(values as (Uint8Array | null)[]);
    return vectorFromArray(values, f.type).data[0]!;
  });
  return new RecordBatch(SCHEMA, makeData({ type: new Struct(FIELDS), length: rows, nullCount: 0, children }));
}

function validity(values: readonly unknown[]): { nullBitmap: Uint8Array; nullCount: number } {
  const nullBitmap = new Uint8Array(Math.ceil(values.length / 8));
  let nullCount = 0;
  values.forEach((v, i) => {
    if (v === null) nullCount++;
    else nullBitmap[i >> 3]! |= 1 << (i & 7);
  });
  return { nullBitmap, nullCount };
}

function decimalData(values: (Uint32Array | null)[]): Data {
  const data = new Uint32Array(values.length * 4);
  values.forEach((v, i) => v && data.set(v, i * 4));
  return makeData({ type: new Decimal(2, 20, 128), length: values.length, ...validity(values), data }) as Data;
}

function fixedBinaryData(values: (Uint8Array | null)[]): Data {
  const data = new Uint8Array(values.length * 3);
  values.forEach((v, i) => v && data.set(v, i * 3));
  return makeData({ type: new FixedSizeBinary(3), length: values.length, ...validity(values), data }) as Data;
}

/** A comparable form of a cell as apache-arrow reads it. */
export function plain(v: unknown): unknown {
  if (v === null || v === undefined) return null;
  if (v instanceof Uint8Array || v instanceof Uint32Array) return [...v];
  if (typeof v === 'object') return JSON.parse(JSON.stringify(v, (_, x) => (typeof x === 'bigint' ? `${x}n` : x)));
  if (typeof v === 'number' && Object.is(v, -0)) return '-0';
  return v;
}
