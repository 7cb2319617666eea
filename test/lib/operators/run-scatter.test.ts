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
import { type Data, Field, Float64, Schema, makeData } from 'apache-arrow';
import { scatterRun } from '../../../lib/operators/run-scatter.ts';
import { DICTIONARY, FIELDS, SCHEMA, batch, plain } from './column-kinds.ts';

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
