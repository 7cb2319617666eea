/**
 * GroupIndex gives a tuple of codes the same group id whatever capacity it starts at: a capacity
 * given up front (rounded to a power of two) and growth by doubling find the same groups as a Map.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GroupIndex } from '../../../lib/operators/group-index.ts';

test('GroupIndex finds the groups a Map finds, from any starting capacity', () => {
  let seed = 7;
  const random = (n: number): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed % n;
  };
  const n = 30_000;
  const a = new Int32Array(n);
  const b = new Int32Array(n);
  // skewed: many repeats of a few tuples, and many tuples met once
  for (let i = 0; i < n; i++) {
    a[i] = i % 3 === 0 ? random(5) : random(4000);
    b[i] = i % 3 === 0 ? 1 : random(20);
  }
  const reference = new Map<string, number>();
  const expected = Array.from({ length: n }, (_, i) => {
    const key = `${a[i]},${b[i]}`;
    if (!reference.has(key)) reference.set(key, reference.size);
    return reference.get(key)!;
  });
  const tuples = [...reference.keys()].map((key) => key.split(',').map(Number));
  for (const capacity of [undefined, 1, 1000, 5000, 100_000]) {
    const index = new GroupIndex(2, capacity);
    const got = Array.from({ length: n }, (_, i) => index.find([a, b], i));
    assert.deepEqual(got, expected, `capacity ${capacity}`);
    assert.equal(index.size, reference.size);
    for (let g = 0; g < index.size; g++) {
      assert.equal(index.codes[0]![g], tuples[g]![0]);
      assert.equal(index.codes[1]![g], tuples[g]![1]);
    }
  }
});
