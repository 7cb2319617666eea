/**
 * GroupIndex gives a tuple of codes the same group id whatever capacity it starts at: a capacity
 * given up front (rounded to a power of two) and growth by doubling find the same groups as a Map.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GroupIndex } from '../../../lib/operators/group-index.ts';

/** A deterministic random integer below `n`, from an LCG seeded with `seed`. */
function seeded(seed: number): (n: number) => number {
  return (n) => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed % n;
  };
}

test('GroupIndex finds the groups a Map finds, from any starting capacity', () => {
  const random = seeded(7);
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
      assert.equal(index.code(g, 0), tuples[g]![0]);
      assert.equal(index.code(g, 1), tuples[g]![1]);
    }
  }
});

test('GroupIndex keeps wide tuples apart through many growths (slot tags and stored codes)', () => {
  const random = seeded(11);
  const n = 200_000;
  const cols = [new Int32Array(n), new Int32Array(n), new Int32Array(n)];
  for (let i = 0; i < n; i++) {
    cols[0]![i] = random(300);
    cols[1]![i] = random(7);
    // tuples that differ only in the last code, and one code far from zero
    cols[2]![i] = i % 5 === 0 ? 2 ** 30 + random(3) : random(200);
  }
  const reference = new Map<string, number>();
  const index = new GroupIndex(3);
  for (let i = 0; i < n; i++) {
    const key = `${cols[0]![i]},${cols[1]![i]},${cols[2]![i]}`;
    if (!reference.has(key)) reference.set(key, reference.size);
    assert.equal(index.find(cols, i), reference.get(key), `row ${i}`);
  }
  assert.equal(index.size, reference.size);
  assert.ok(index.size > 80_000, `${index.size} groups: enough to grow many times`);
  let g = 0;
  for (const key of reference.keys()) {
    assert.deepEqual(
      [0, 1, 2].map((c) => index.code(g, c)),
      key.split(',').map(Number),
    );
    g++;
  }
});

test('GroupIndex.gather reads the codes of any groups, in the order asked, row-major', () => {
  const random = seeded(11);
  const n = 5_000;
  const columns = [new Int32Array(n), new Int32Array(n), new Int32Array(n)];
  for (let i = 0; i < n; i++) for (const column of columns) column[i] = random(50);
  const index = new GroupIndex(3);
  for (let i = 0; i < n; i++) index.find(columns, i);
  // scattered and repeated ids, as a partition's groups are
  const ids = Array.from({ length: 700 }, () => random(index.size));
  const into = new Int32Array(ids.length * 3 + 5).fill(-7);
  index.gather(ids, into);
  for (let j = 0; j < ids.length; j++) {
    for (let c = 0; c < 3; c++) assert.equal(into[j * 3 + c], index.code(ids[j]!, c), `group ${ids[j]} column ${c}`);
  }
  // nothing past the ids' codes is written
  assert.deepEqual([...into.subarray(ids.length * 3)], [-7, -7, -7, -7, -7]);
});

test('GroupIndex.growthBytes is what the next growth adds, and 0 while the groups fit', () => {
  const index = new GroupIndex(2, 1024);
  const a = new Int32Array(5000).map((_, i) => i);
  const b = new Int32Array(5000).map((_, i) => i % 3);
  let i = 0;
  while (index.size < 1000) index.find([a, b], i++);
  assert.equal(index.growthBytes(24), 0);
  const before = index.bytes;
  const predicted = index.growthBytes(25);
  assert.ok(predicted > 0);
  while (index.size < 1025) index.find([a, b], i++);
  assert.equal(index.bytes - before, predicted);
});
