/**
 * Sort keys without a buffer path (read as JS values): a dictionary whose dictionary holds a null
 * entry sorts those rows as nulls (they sorted as the text "null", between "j..." and "p..."), and
 * fixed-size binary keys sort by their bytes (the first 6 bytes were never compared: the order was
 * arbitrary). min/max of a binary column compare bytes too (they compared "1,2,3" text). Both
 * found sorting the shared corpus's Arrow files and comparing with DuckDB.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  Dictionary,
  FixedSizeBinary,
  Int32,
  RecordBatch,
  Schema,
  Field,
  Struct,
  Utf8,
  makeData,
  vectorFromArray,
} from 'apache-arrow';
import { Batch, BatchSource } from 'spillway/extend';
import { pipeline, collect, sort, groupBy, agg } from 'spillway';

/** A source of one Arrow batch of `columns`. */
function source(fields: Field[], children: ReturnType<typeof makeData>[]): BatchSource {
  const batch = new RecordBatch(
    new Schema(fields),
    makeData({ type: new Struct(fields), length: children[0]!.length, nullCount: 0, children }),
  );
  return new BatchSource({
    name: 'arrow',
    async *open() {
      yield Batch.fromArrow(batch, { source: 'arrow', index: 0, rowStart: 0 });
    },
  });
}

test('a dictionary entry that is null sorts as a null (last), not as the text "null"', async () => {
  const type = new Dictionary(new Utf8(), new Int32());
  const dictionary = vectorFromArray(['pear', null, 'apple', 'kiwi'], new Utf8());
  const indices = Int32Array.from([0, 1, 2, 1, 3, 0]);
  const column = makeData({ type, length: 6, nullCount: 0, data: indices, dictionary });
  const ids = makeData({ type: new Int32(), length: 6, nullCount: 0, data: Int32Array.from([0, 1, 2, 3, 4, 5]) });
  const fields = [new Field('fruit', type, true), new Field('id', new Int32(), false)];
  const { output } = await pipeline(source(fields, [column, ids]), sort(['fruit', 'id']), collect());
  const got = (output as { fruit: string | null; id: number }[]).map((r) => `${r.fruit}:${r.id}`);
  assert.deepEqual(got, ['apple:2', 'kiwi:4', 'pear:0', 'pear:5', 'null:1', 'null:3']);
  const desc = await pipeline(
    source(fields, [column, ids]),
    sort([{ column: 'fruit', order: 'desc', nulls: 'first' }, 'id']),
    collect(),
  );
  assert.deepEqual(
    (desc.output as { id: number }[]).map((r) => r.id),
    [1, 3, 0, 5, 4, 2],
  );
});

test('fixed-size binary keys sort by their bytes, and min/max of bytes compare bytes', async () => {
  const values = [
    [0x10, 0, 0, 0, 0, 0, 0, 2],
    [0x09, 9, 9, 9, 9, 9, 9, 9],
    [0x10, 0, 0, 0, 0, 0, 0, 1],
    [0xff, 0, 0, 0, 0, 0, 0, 0],
    [0x00, 0, 0, 0, 0, 0, 0, 0],
  ];
  const type = new FixedSizeBinary(8);
  const column = makeData({ type, length: values.length, nullCount: 0, data: Uint8Array.from(values.flat()) });
  const group = makeData({ type: new Int32(), length: values.length, nullCount: 0, data: new Int32Array(5) });
  const fields = [new Field('id', type, false), new Field('g', new Int32(), false)];
  const { output } = await pipeline(source(fields, [column, group]), sort(['id']), collect());
  const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');
  const got = (output as { id: Uint8Array }[]).map((r) => hex(r.id));
  assert.deepEqual(got, values.map((v) => hex(Uint8Array.from(v))).sort());
  const extremes = await pipeline(
    source(fields, [column, group]),
    groupBy(['g'], { lo: agg.min('id'), hi: agg.max('id') }),
    collect(),
  );
  const [row] = extremes.output as { lo: Uint8Array; hi: Uint8Array }[];
  assert.equal(hex(row!.lo), '0000000000000000');
  assert.equal(hex(row!.hi), 'ff00000000000000');
});
