/**
 * ArrowRowPartitions (lib/operators/arrow-row-partitions.ts) splits Arrow batches' rows among
 * partitions by a number the caller gives each row, and writes each partition's pending rows as
 * one batch (copied by scatter.ts, or gathered for the kinds it does not scatter). Read back, a
 * partition must hold exactly its rows, in the order they came, with every value of every column
 * kind as it was (nulls, -0, a NaN's payload, shared dictionaries, lists), from sliced sources,
 * whether the rows are written by the row bound, the batch bound or at the end, and across a
 * change of schema.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Field, Float64, RecordBatch, Schema, Struct, makeData, type Data } from 'apache-arrow';
import { ArrowRowPartitions } from '../../../lib/operators/arrow-row-partitions.ts';
import { OperatorScratch } from '../../../lib/operators/operator-scratch.ts';
import { tempDir } from '../../helpers.ts';
import { DICTIONARY, FIELDS, batch, plain } from './column-kinds.ts';

/** Every value of a batch's rows, by row: `[column name, comparable value]` pairs. */
function cells(b: RecordBatch, r: number): unknown[] {
  return b.schema.fields.map((f, c) => [f.name, plain(b.getChildAt(c)!.get(r))]);
}

async function readAll(parts: ArrowRowPartitions, p: number): Promise<RecordBatch[]> {
  const out: RecordBatch[] = [];
  for await (const b of parts.read(p)) out.push(b);
  return out;
}

test('ArrowRowPartitions writes each partition its own rows, in the order they came, every column kind intact', async () => {
  const scratch = new OperatorScratch('join', tempDir());
  try {
    for (const fanout of [1, 3, 32]) {
      const parts = await ArrowRowPartitions.open(scratch, fanout);
      // sliced sources (offsets into buffers and bitmaps), of several sizes
      const sources = [batch(0, 40), batch(1, 25).slice(5, 25), batch(2, 33), batch(3, 17).slice(1, 16), batch(4, 1)];
      const want: unknown[][][] = Array.from({ length: fanout }, () => []);
      let seed = 11;
      for (const source of sources) {
        const which = new Int32Array(source.numRows);
        for (let i = 0; i < which.length; i++) {
          seed = (seed * 1103515245 + 12345) >>> 0;
          // a row now and then left out (-1); most rows in a few partitions (skew)
          which[i] = seed % 11 === 0 ? -1 : (seed >>> 8) % 5 === 0 ? (seed >>> 3) % fanout : 0;
          if (which[i]! >= 0) want[which[i]!]!.push(cells(source, i));
        }
        await parts.add(source, which);
      }
      await parts.finish();
      for (let p = 0; p < fanout; p++) {
        const batches = await readAll(parts, p);
        const got = batches.flatMap((b) => Array.from({ length: b.numRows }, (_, r) => cells(b, r)));
        assert.equal(parts.rows(p), want[p]!.length, `partition ${p} of ${fanout}: rows counted`);
        assert.deepEqual(got, want[p], `partition ${p} of ${fanout}: rows and values`);
        for (const b of batches) {
          const dict = b.data.children[FIELDS.findIndex((f) => f.name === 'dict')]!;
          assert.deepEqual(dict.dictionary?.toArray(), DICTIONARY.toArray(), 'the shared dictionary');
        }
      }
      await parts.dispose();
    }
  } finally {
    await scratch.dispose();
  }
});

test('ArrowRowPartitions writes pending rows when a schema changes, by its bounds, and keeps a NaN payload', async () => {
  const scratch = new OperatorScratch('groupBy', tempDir());
  try {
    const parts = await ArrowRowPartitions.open(scratch, 4);
    // a NaN with payload 1, another with its sign bit set, -0
    const bytes = new Uint8Array(3 * 8);
    const view = new DataView(bytes.buffer);
    view.setUint32(0, 1, true);
    view.setUint32(4, 0x7ff80000, true);
    view.setUint32(8, 0xdeadbeef, true);
    view.setUint32(12, 0xfff80000, true);
    view.setFloat64(16, -0, true);
    const field = new Field('f', new Float64(), false);
    const floats = new RecordBatch(
      new Schema([field]),
      makeData({
        type: new Struct([field]),
        length: 3,
        nullCount: 0,
        children: [makeData({ type: new Float64(), length: 3, nullCount: 0, data: new Float64Array(bytes.buffer) })],
      }) as Data<Struct>,
    );
    await parts.add(floats, Int32Array.from([2, 2, 1]));
    // another schema: the float rows are written first
    const wide = batch(9, 20_000);
    const which = Int32Array.from({ length: wide.numRows }, (_, i) => (i < 17_000 ? 3 : i % 4));
    // partition 3 passes the row bound (16,384): written at once, with this batch's rows
    await parts.add(wide, which);
    assert.equal(parts.rows(2), 2 + 750);
    assert.equal(parts.rows(3), 17_000 + 750);
    await parts.add(floats.slice(2, 3), Int32Array.from([0]));
    await parts.finish();
    const two = await readAll(parts, 2);
    const values = two[0]!.data.children[0]!.values as Float64Array;
    const got = new Uint8Array(values.buffer, values.byteOffset, 16);
    assert.deepEqual([...got], [...bytes.subarray(0, 16)], 'NaN payloads kept bit for bit');
    const zero = (await readAll(parts, 0)).filter((b) => b.schema.fields.length === 1);
    assert.ok(Object.is(zero[0]!.getChildAt(0)!.get(0), -0));
    const three = await readAll(parts, 3);
    assert.equal(
      three.reduce((n, b) => n + b.numRows, 0),
      17_750,
    );
    const firstRow = three[0]!;
    assert.deepEqual(cells(firstRow, 0), cells(wide, 0));
    await parts.dispose();
  } finally {
    await scratch.dispose();
  }
});
