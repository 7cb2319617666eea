/**
 * Rows built by an object literal behave as rows built key by key: same keys in the same order,
 * a repeated name keeps its first position and its last value, integer-like names, a `__proto__`
 * column is an own property (never the prototype), and wide layouts are built key by key.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Field, Int32, RecordBatch, Schema, Struct, makeData } from 'apache-arrow';
import { assignRow, columnsRowMaker } from '../../../lib/core/row-literal.ts';
import { recordBatchToRows } from '../../../lib/formats/arrow/to-rows.ts';

const byAssign = (names: string[], columns: unknown[][], i: number) => assignRow(names, (c) => columns[c]![i]);

test('a literal row equals the row built key by key, for awkward names', () => {
  const cases: string[][] = [
    ['id', 'name', 'price'],
    ['b', '2', 'a', '1'],
    ['a', 'b', 'a'],
    ['', 'x y', 'quote"d', 'back\\slash', 'new\nline', 'constructor', 'toString'],
    ['__proto__', 'a'],
    Array.from({ length: 600 }, (_, c) => `c${c}`),
  ];
  for (const names of cases) {
    const columns = names.map((_, c) => [c, `v${c}`, null]);
    const make = columnsRowMaker(names);
    for (let i = 0; i < 3; i++) {
      const row = make(columns, i);
      const expected = byAssign(names, columns, i);
      assert.deepEqual(Object.keys(row), Object.keys(expected), names.slice(0, 5).join(','));
      assert.deepEqual(row, expected);
      assert.equal(Object.getPrototypeOf(row), Object.prototype);
    }
  }
});

test('recordBatchToRows keeps a __proto__ column as an own property', () => {
  const fields = [new Field('__proto__', new Int32()), new Field('a', new Int32())];
  const children = [Int32Array.from([1, 2]), Int32Array.from([3, 4])].map((data) =>
    makeData({ type: new Int32(), length: 2, data }),
  );
  const batch = new RecordBatch(new Schema(fields), makeData({ type: new Struct(fields), length: 2, children }));
  const rows = recordBatchToRows(batch);
  assert.equal(Object.getPrototypeOf(rows[0]), Object.prototype);
  assert.deepEqual(Object.getOwnPropertyDescriptor(rows[1], '__proto__')?.value, 2);
  assert.equal((rows[1] as { a: number }).a, 4);
});
