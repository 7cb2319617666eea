/**
 * gatherRows (lib/operators/gather.ts) copies chosen rows out of several record batches, as the
 * sort's merge and topK do: every value and null must land where the plan says, for each kind of
 * column it copies by buffers (strings and bytes with 32- and 64-bit offsets, short and long
 * values, fixed-width numbers, booleans) and for the generic path.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  Binary,
  BinaryView,
  Bool,
  Field,
  FixedSizeList,
  Float64,
  Int32,
  LargeBinary,
  LargeList,
  LargeUtf8,
  RecordBatch,
  Schema,
  Struct,
  Utf8,
  Utf8View,
  makeData,
  vectorFromArray,
} from 'apache-arrow';
import { gatherRows } from '../../../lib/operators/gather.ts';

const FIELDS = [
  new Field('s', new Utf8(), true),
  new Field('ls', new LargeUtf8(), true),
  new Field('b', new Binary(), true),
  new Field('lb', new LargeBinary(), true),
  new Field('i', new Int32(), true),
  new Field('f', new Float64(), true),
  new Field('t', new Bool(), true),
];
const SCHEMA = new Schema(FIELDS);

/** The value of column `c` in row `r` of batch `b`: null now and then, long (past 32 bytes) now and then. */
function value(c: string, b: number, r: number): unknown {
  if ((b * 7 + r) % 9 === 0) return null;
  const text = `${b}:${r}${r % 4 === 0 ? ' a long value, past thirty-two bytes, é😀' : ''}`;
  switch (c) {
    case 's':
    case 'ls':
      return text;
    case 'b':
    case 'lb':
      return new TextEncoder().encode(text);
    case 'i':
      return b * 1000 + r;
    case 'f':
      return r / 8;
    default:
      return r % 3 === 0;
  }
}

/** Batch `b` of `rows` rows of `fields`, each value `valueOf(column, b, row)`. */
function batchOf(fields: Field[], b: number, rows: number, valueOf: (c: string, b: number, r: number) => unknown) {
  const children = fields.map(
    (f) =>
      vectorFromArray(
        Array.from({ length: rows }, (_, r) => valueOf(f.name, b, r)),
        f.type,
      ).data[0]!,
  );
  return new RecordBatch(
    new Schema(fields),
    makeData({ type: new Struct(fields), length: rows, nullCount: 0, children }),
  );
}

function batch(b: number, rows: number): RecordBatch {
  return batchOf(FIELDS, b, rows, value);
}

test('gatherRows copies every value and null where the plan says, for every column kind', () => {
  const sources = [batch(0, 40), batch(1, 25).slice(5, 25), batch(2, 33)];
  const picks: [number, number][] = [];
  for (let k = 0; k < 120; k++) picks.push([(k * 5) % 3, (k * 11) % [40, 20, 33][(k * 5) % 3]!]);
  const plan = {
    length: picks.length,
    from: Int32Array.from(picks.map(([s]) => s)),
    rows: Int32Array.from(picks.map(([, r]) => r)),
  };
  const out = gatherRows(SCHEMA, sources, plan as never);
  assert.equal(out.numRows, picks.length);
  for (const [c, field] of FIELDS.entries()) {
    const column = out.getChildAt(c)!;
    for (const [k, [s, r]] of picks.entries()) {
      const want = sources[s]!.getChildAt(c)!.get(r);
      const got = column.get(k);
      assert.deepEqual(got === null ? null : got, want === null ? null : want, `${field.name} row ${k}`);
    }
  }
});

test('gatherRows gathers fixed-size and large lists element by element, from sliced sources, nulls kept', () => {
  const nestedFields = [
    new Field('fsl', new FixedSizeList(2, new Field('item', new Float64(), true)), true),
    new Field('ll', new LargeList(new Field('item', new Utf8(), true)), true),
  ];
  const schema = new Schema(nestedFields);
  const valueOf = (c: string, b: number, r: number): unknown => {
    if ((b + r) % 5 === 0) return null;
    return c === 'fsl'
      ? [b + r / 4, (b + r) % 3 === 0 ? null : -r]
      : Array.from({ length: r % 4 }, (_, e) => `${b}:${r}:${e}`);
  };
  const make = (b: number, rows: number): RecordBatch => batchOf(nestedFields, b, rows, valueOf);
  const sources = [make(0, 30), make(1, 20).slice(4, 20)];
  const picks: [number, number][] = Array.from({ length: 60 }, (_, k) => [k % 2, (k * 7) % (k % 2 ? 16 : 30)]);
  const out = gatherRows(schema, sources, {
    length: picks.length,
    from: Int32Array.from(picks.map(([s]) => s)),
    rows: Int32Array.from(picks.map(([, r]) => r)),
  });
  const plain = (v: unknown): unknown => (v === null ? null : JSON.parse(JSON.stringify(v)));
  for (const [c, field] of nestedFields.entries()) {
    const column = out.getChildAt(c)!;
    for (const [k, [s, r]] of picks.entries()) {
      const want = valueOf(field.name, s, s === 1 ? r + 4 : r);
      assert.deepEqual(plain(column.get(k)), want, `${field.name} row ${k}`);
    }
  }
});

test('gatherRows gathers string and binary views, inline and long values, into batches of their own bytes', () => {
  const viewFields = [new Field('sv', new Utf8View(), true), new Field('bv', new BinaryView(), true)];
  const schema = new Schema(viewFields);
  const text = (b: number, r: number): string | null =>
    (b + r) % 6 === 0 ? null : r % 3 === 0 ? `${b}:${r} a value longer than twelve bytes é` : `${b}:${r}`;
  const valueOf = (c: string, b: number, r: number): unknown => {
    const t = text(b, r);
    return t === null || c === 'sv' ? t : new TextEncoder().encode(t);
  };
  const sources = [batchOf(viewFields, 0, 30, valueOf), batchOf(viewFields, 1, 24, valueOf).slice(5, 24)];
  const picks: [number, number][] = Array.from({ length: 70 }, (_, k) => [k % 2, (k * 7) % (k % 2 ? 19 : 30)]);
  const out = gatherRows(schema, sources, {
    length: picks.length,
    from: Int32Array.from(picks.map(([s]) => s)),
    rows: Int32Array.from(picks.map(([, r]) => r)),
  });
  // one buffer of the gathered long values, not the sources'
  assert.equal((out.data.children[0] as unknown as { variadicBuffers: Uint8Array[] }).variadicBuffers.length, 1);
  for (const [k, [s, r]] of picks.entries()) {
    const want = text(s, s === 1 ? r + 5 : r);
    assert.equal(out.getChildAt(0)!.get(k), want, `sv row ${k}`);
    const bytes = out.getChildAt(1)!.get(k) as Uint8Array | null;
    assert.equal(bytes === null ? null : new TextDecoder().decode(bytes), want, `bv row ${k}`);
  }
});
