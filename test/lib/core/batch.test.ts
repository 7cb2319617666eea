import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Batch, estimateRowsBytes } from '../../../lib/entry/extend.ts';
import { obtainGc } from '../../../lib/memory/memory-probe.ts';

/** Heap bytes `make()`'s result holds, measured with full collections around it. */
function measuredHeap(make: () => object[]): { bytes: number; value: object[] } {
  const gc = obtainGc();
  assert.ok(gc, 'a gc function is obtainable');
  gc();
  gc();
  const before = process.memoryUsage().heapUsed;
  const value = make();
  gc();
  gc();
  return { bytes: process.memoryUsage().heapUsed - before, value };
}

const shapes: Record<string, (i: number) => object> = {
  'trades (numbers, short strings, a Date)': (i) => ({
    id: i,
    ts: new Date(1.7e12 + i),
    symbol: `SYM${i % 97}x`,
    side: i % 2 ? 'B' : 'S',
    price: 100 + i / 7,
    qty: i % 1000,
    venue: `V${i % 5}`,
    note: `note number ${i} with some words`,
  }),
  'wide rows of floats': (i) => Object.fromEntries(Array.from({ length: 20 }, (_, k) => [`c${k}`, i * 1.5 + k / 3])),
  'array rows of strings': (i) => [`a-${i}`, `bb-${i}-${i}`, `ccc-${i * 3}`, 'constant'],
};

for (const [name, make] of Object.entries(shapes)) {
  test(`batch bytes estimate is within ±30% of the heap the rows really hold: ${name}`, () => {
    const { bytes, value } = measuredHeap(() => Array.from({ length: 100_000 }, (_, i) => make(i)));
    const estimate = estimateRowsBytes(value);
    const ratio = estimate / bytes;
    assert.ok(ratio > 0.7 && ratio < 1.3, `estimate ${estimate} vs measured ${bytes} (ratio ${ratio.toFixed(2)})`);
    assert.equal(value.length, 100_000);
  });
}

test('a batch carries its rows, size and position', () => {
  const rows = [{ a: 1 }, { a: 2 }];
  const batch = new Batch(rows, { source: 'x.csv', index: 3, rowStart: 200, line: 201, endLine: 202, endByte: 999 });
  assert.equal(batch.numRows, 2);
  assert.ok(batch.bytes > 0);
  assert.deepEqual(batch.position, { source: 'x.csv', index: 3, rowStart: 200, line: 201, endLine: 202, endByte: 999 });
  const next = batch.withRows([{ b: 1 }]);
  assert.equal(next.position, batch.position);
  assert.equal(next.numRows, 1);
});

test('a selection batch converts only its rows to objects, and copies them to Arrow once when asked', async () => {
  const { rowsToRecordBatch, recordBatchToRows } = await import('../../../lib/formats/arrow/convert.ts');
  const rows = Array.from({ length: 1000 }, (_, i) => ({ id: i, s: `v${i % 7}`, x: i % 5 === 0 ? null : i / 3 }));
  const source = rowsToRecordBatch(rows, {});
  const indices = Int32Array.from({ length: 1000 }, (_, i) => i).filter((i) => i % 3 === 1);
  const position = { source: 'test', index: 0, rowStart: 0 };
  const want = Array.from(indices, (i) => recordBatchToRows(source)[i]);

  const asRows = Batch.fromSelection(source, indices, position);
  assert.equal(asRows.numRows, indices.length);
  assert.ok(asRows.hasArrow && !asRows.hasRows);
  assert.deepEqual(asRows.columns, ['id', 's', 'x']);
  assert.equal(asRows.bytes, Batch.fromArrow(source, position).bytes, 'holds its whole source until copied');
  assert.deepEqual(asRows.rows, want);

  const asArrow = Batch.fromSelection(source, indices, position);
  const copied = asArrow.arrow;
  assert.equal(copied.numRows, indices.length);
  assert.equal(asArrow.arrow, copied, 'copied once');
  assert.deepEqual(recordBatchToRows(copied), want);
  assert.deepEqual(asArrow.rows, want);
});
