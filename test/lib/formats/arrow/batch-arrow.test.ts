import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Batch } from '../../../../lib/core/batch.ts';
import { rowsToRecordBatch } from '../../../../lib/formats/arrow/convert.ts';

const position = { source: 'test', index: 0, rowStart: 0 };

test('a Batch from Arrow converts to rows once and reports buffer bytes', () => {
  const rb = rowsToRecordBatch([
    { a: 1, b: 'x' },
    { a: 2, b: 'y' },
  ]);
  const batch = Batch.fromArrow(rb, position);
  assert.equal(batch.hasRows, false);
  assert.equal(batch.numRows, 2);
  assert.equal(batch.arrow, rb);
  assert.ok(batch.bytes > 0 && batch.bytes < 1024);
  const rows = batch.rows;
  assert.deepEqual(rows, [
    { a: 1, b: 'x' },
    { a: 2, b: 'y' },
  ]);
  assert.equal(batch.rows, rows, 'cached');
});

test('a Batch of rows converts to Arrow once; the old constructor API still works', () => {
  const batch = new Batch([{ a: 1 }], position);
  assert.equal(batch.hasArrow, false);
  const rb = batch.toArrow();
  assert.equal(rb.numRows, 1);
  assert.equal(batch.arrow, rb, 'cached');
  assert.equal(batch.withRows([{ b: 2 }]).numRows, 1);
  assert.equal(new Batch([{ a: 1 }], position, 123).bytes, 123);
});
