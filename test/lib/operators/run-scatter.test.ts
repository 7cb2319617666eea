/**
 * scatterRun (lib/operators/run-scatter.ts) puts a sorted run in order by writing each source
 * value to its output row. Checked against the sources themselves, value by value, for every
 * column kind it scatters (strings and bytes short and long, numbers of 1, 4, 8 and 16 bytes,
 * fixed-size binary of an odd width, booleans, shared dictionaries, nulls) and for the kinds it
 * leaves to the gather (64-bit offsets, lists), from sliced sources,
 * in batches of several sizes; and a NaN keeps its payload bits.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
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
import { scatterRun } from '../../../lib/operators/run-scatter.ts';

const DICTIONARY = vectorFromArray(['red', 'green', 'blue', 'été']);
const FIELDS = [
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
const SCHEMA = new Schema(FIELDS);

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
function batch(b: number, rows: number): RecordBatch {
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
function plain(v: unknown): unknown {
  if (v === null || v === undefined) return null;
  if (v instanceof Uint8Array || v instanceof Uint32Array) return [...v];
  if (typeof v === 'object') return JSON.parse(JSON.stringify(v, (_, x) => (typeof x === 'bigint' ? `${x}n` : x)));
  if (typeof v === 'number' && Object.is(v, -0)) return '-0';
  return v;
}

test('scatterRun puts every value and null of every column kind at its output row, in batches of any size', () => {
  // sliced sources: offsets into their buffers and bitmaps
  const sources = [batch(0, 40), batch(1, 25).slice(5, 25), batch(2, 33), batch(3, 17).slice(1, 16)];
  const sizes = sources.map((s) => s.numRows);
  const n = sizes.reduce((a, b) => a + b, 0);
  const global = sources.flatMap((s, i) => Array.from({ length: s.numRows }, (_, r): [number, number] => [i, r]));
  // a fixed shuffle
  const order = Uint32Array.from({ length: n }, (_, k) => k);
  for (let k = n - 1, seed = 7; k > 0; k--) {
    seed = (seed * 1103515245 + 12345) >>> 0;
    const j = seed % (k + 1);
    [order[k], order[j]] = [order[j]!, order[k]!];
  }
  for (const rowsPerBatch of [1, 7, 64, n, n + 5]) {
    const columns = FIELDS.map((_, c) => sources.map((s) => s.data.children[c]!));
    const out = [...scatterRun(SCHEMA, columns, sizes, order, rowsPerBatch)];
    assert.ok(
      columns.every((c) => c === undefined),
      'the run hands its columns over',
    );
    assert.deepEqual(
      out.map((b) => b.numRows),
      Array.from({ length: Math.ceil(n / rowsPerBatch) }, (_, b) => Math.min(rowsPerBatch, n - b * rowsPerBatch)),
    );
    for (const [c, field] of FIELDS.entries()) {
      for (let k = 0; k < n; k++) {
        const [s, r] = global[order[k]!]!;
        const got = out[Math.floor(k / rowsPerBatch)]!.getChildAt(c)!.get(k % rowsPerBatch);
        const want = sources[s]!.getChildAt(c)!.get(r);
        assert.deepEqual(plain(got), plain(want), `${field.name} output row ${k} (batches of ${rowsPerBatch})`);
      }
    }
    // the shared dictionary is kept, not rebuilt
    assert.equal(out[0]!.data.children[11]!.dictionary, DICTIONARY);
  }
});

test('scatterRun moves 8-byte values as bits: a NaN keeps its payload', () => {
  const field = new Field('f', new Float64(), false);
  const schema = new Schema([field]);
  const bytes = new Uint8Array(4 * 8);
  const view = new DataView(bytes.buffer);
  view.setFloat64(0, 1.5, true);
  view.setUint32(8, 0x00000001, true); // a NaN with payload 1
  view.setUint32(12, 0x7ff80000, true);
  view.setUint32(16, 0xdeadbeef, true); // another payload, sign bit set
  view.setUint32(20, 0xfff80000, true);
  view.setFloat64(24, -0, true);
  const data = makeData({ type: new Float64(), length: 4, nullCount: 0, data: new Float64Array(bytes.buffer) });
  const [out] = [...scatterRun(schema, [[data as Data]], [4], Uint32Array.from([3, 2, 1, 0]), 8)];
  const got = new Uint8Array((out!.data.children[0]!.values as Float64Array).buffer);
  const want = new Uint8Array(32);
  for (let k = 0; k < 4; k++) want.set(bytes.subarray((3 - k) * 8, (4 - k) * 8), k * 8);
  assert.deepEqual([...got], [...want]);
});
