/**
 * `cast: true` inference on the fast path (cell-store.ts, cells.ts) at the edges of its number
 * fast path, checked cell by cell against inferCell (cast.ts), the string rules the fast path
 * must give without making strings: -0, leading zeros, exponents past the double range, the
 * int32, 2^53 and int64 edges, blanks around numbers; each value is its column's first non-empty
 * cell, late in the batch, so the column's type is settled by that one cell.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FastCsvReader, type FastCsvBatch } from '../../../../../lib/formats/csv/fast/reader.ts';
import { inferCell } from '../../../../../lib/formats/csv/cast.ts';

/** Edge cells and the Arrow type of a column holding one of them among empty cells. */
const EDGES: [string, string][] = [
  ['-0', 'Float64'],
  ['0', 'Int32'],
  ['+0', 'Int32'],
  ['-0.0', 'Float64'],
  ['0.000', 'Int32'],
  ['007', 'Int32'],
  ['-007.50', 'Float64'],
  ['5.', 'Int32'],
  ['.5', 'Float64'],
  ['-.5', 'Float64'],
  ['+1', 'Int32'],
  ['1e309', 'Float64'],
  ['-1e309', 'Float64'],
  ['1e-400', 'Int32'],
  ['-1e-400', 'Float64'],
  ['1E5', 'Int32'],
  ['2147483647', 'Int32'],
  ['2147483648', 'Float64'],
  ['-2147483648', 'Int32'],
  ['-2147483649', 'Float64'],
  ['9007199254740991', 'Float64'],
  ['-9007199254740991', 'Float64'],
  ['9007199254740992', 'Int64'],
  ['9223372036854775807', 'Int64'],
  ['-9223372036854775808', 'Int64'],
  ['12345678901234567890.5', 'Float64'],
  ['0.12345678901234567890123456', 'Float64'],
  ['4.35', 'Float64'],
  ['0.1', 'Float64'],
  [' 42', 'Int32'],
  ['3.5\t', 'Float64'],
  ['1.2.3', 'Utf8'],
  ['-', 'Utf8'],
  ['.', 'Utf8'],
  ['+.', 'Utf8'],
  ['0x10', 'Utf8'],
  ['1_000', 'Utf8'],
  ['1e', 'Utf8'],
  ['2026-01-05', 'Utf8'],
];

const ROWS = 3000;
/** The row holding each column's value (every other cell is empty). */
const AT = 2500;

function read(text: string, output: 'rows' | 'arrow'): FastCsvBatch[] {
  const reader = new FastCsvReader({
    columns: true,
    infer: true,
    fail: true,
    raw: false,
    onBad: () => undefined,
    onCastFailure: () => undefined,
    output,
  });
  reader.batchSize = 100_000;
  // small chunks: records cut across windows too
  const bytes = Buffer.from(text);
  for (let p = 0; p < bytes.length; p += 4093) reader.push(bytes.subarray(p, p + 4093));
  reader.end();
  return reader.ready;
}

function csvOf(cells: readonly string[]): string {
  const lines = [cells.map((_, c) => `c${c}`).join(',')];
  for (let r = 0; r < ROWS; r++) lines.push(r === AT ? cells.join(',') : ','.repeat(cells.length - 1));
  return `${lines.join('\n')}\n`;
}

test('edge numbers read as inferCell reads them, late in their column, in Arrow and in rows', () => {
  const cells = EDGES.map(([v]) => v);
  const text = csvOf(cells);
  const [batch] = read(text, 'arrow');
  assert.ok(batch?.arrow, 'one Arrow batch');
  const arrow = batch.arrow;
  assert.equal(arrow.numRows, ROWS);
  EDGES.forEach(([v, type], c) => {
    const expected = inferCell(v);
    const column = arrow.getChildAt(c)!;
    assert.equal(String(column.type), type, `type of ${JSON.stringify(v)}`);
    const got = column.get(AT);
    if (typeof got === 'bigint') assert.equal(got, BigInt(expected as number | bigint), JSON.stringify(v));
    else assert.ok(Object.is(got, expected), `${JSON.stringify(v)}: ${String(got)} is not ${String(expected)}`);
    assert.equal(column.nullCount, ROWS - 1);
  });
  const [rows] = read(text, 'rows');
  const row = rows!.rows![AT] as Record<string, unknown>;
  EDGES.forEach(([v], c) => assert.ok(Object.is(row[`c${c}`], inferCell(v)), `rows: ${JSON.stringify(v)}`));
});

test('past the int64 range a column falls back to rows and keeps the exact bigint', () => {
  for (const v of ['9223372036854775808', '-9223372036854775809']) {
    const [batch] = read(csvOf(['1', v]), 'arrow');
    assert.equal(batch?.arrow, undefined, v);
    const row = batch!.rows![AT] as Record<string, unknown>;
    assert.equal(row.c1, BigInt(v));
    assert.equal(row.c0, 1);
  }
});
