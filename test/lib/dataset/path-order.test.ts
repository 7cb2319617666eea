import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { comparePaths } from '../../../lib/dataset/path-order.ts';

test('digit runs compare as numbers: part-2 before part-10, id=9 before id=10', () => {
  const names = Array.from({ length: 120 }, (_, i) => `p=k${i % 7}/part-${i}.parquet`);
  const shuffled = [...names].sort(() => Math.random() - 0.5);
  const expected = Array.from({ length: 7 }, (_, k) => names.filter((_, i) => i % 7 === k)).flat();
  assert.deepEqual(shuffled.sort(comparePaths), expected);
  assert.ok(comparePaths('id=9/a', 'id=10/a') < 0);
  assert.ok(comparePaths('date=2026-11-30', 'date=2026-12-01') < 0);
  assert.ok(comparePaths('a/part-1.csv', 'a/part-1.csv.gz') < 0);
  assert.ok(comparePaths('x1', 'x01') !== 0, 'equal numbers spelt differently still order');
});

test('the order is total: antisymmetric, transitive, zero only for equal paths', () => {
  const path = fc.stringMatching(/^[a-c0-9/=.-]{0,12}$/);
  fc.assert(
    fc.property(path, path, path, (a, b, c) => {
      assert.equal(Math.sign(comparePaths(a, b)) + 0, 0 - Math.sign(comparePaths(b, a)));
      assert.equal(comparePaths(a, b) === 0, a === b);
      if (comparePaths(a, b) < 0 && comparePaths(b, c) < 0) assert.ok(comparePaths(a, c) < 0);
    }),
    { numRuns: 5000 },
  );
});
