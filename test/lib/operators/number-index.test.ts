/**
 * The join's number key index finds what a Map (SameValueZero) finds, for any numbers: -0 and 0
 * one key, every NaN one key, fractions, infinities, integers past int32, and through the table's
 * growth from 1,024 slots; integer keys held by direct address find the same, through the
 * array's growth up and down and the move to the hash table when a key is no integer or too far.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { NumberIndex } from '../../../lib/operators/number-index.ts';

const NAN_BITS = new Float64Array(new BigUint64Array([0x7ff8_0000_0000_0001n]).buffer)[0]!;

const number = fc.oneof(
  fc.integer({ min: -50, max: 50 }),
  fc.double(),
  fc.constantFrom(
    0,
    -0,
    Number.NaN,
    NAN_BITS,
    Number.POSITIVE_INFINITY,
    Number.NEGATIVE_INFINITY,
    2 ** 31,
    -(2 ** 31) - 1,
    2 ** 53,
    0.1 + 0.2,
  ),
);

/** Integer keys near `base`, with now and then any number (a fraction next to an integer, NaN, -0...). */
const mostlyIntegers = (base: number) =>
  fc.oneof(
    { weight: 30, arbitrary: fc.integer({ min: -3000, max: 3000 }).map((i) => base + i) },
    { weight: 1, arbitrary: number },
    { weight: 1, arbitrary: fc.constantFrom(base + 0.5, base - 5e-324, base + 1e-9, base + 1e6) },
  );

describe('NumberIndex', () => {
  it('finds the group a Map of the same keys finds, inserting on a miss', () => {
    const keysOf = fc.oneof(
      fc.array(number, { maxLength: 3000 }),
      fc.array(mostlyIntegers(0), { maxLength: 3000 }),
      fc.array(mostlyIntegers(1e12), { maxLength: 3000 }),
      fc.array(fc.integer({ min: -100_000, max: 100_000 }), { maxLength: 3000 }),
    );
    fc.assert(
      fc.property(keysOf, (keys) => {
        const index = new NumberIndex();
        const map = new Map<number, number>();
        keys.forEach((key, i) => {
          const expected = map.get(key) ?? -1;
          assert.equal(index.find(key), expected, `key ${Object.is(key, -0) ? '-0' : key}`);
          if (expected === -1) {
            map.set(key, i);
            index.insert(i);
          }
        });
        assert.equal(index.size, map.size);
        for (const [key, group] of map) assert.equal(index.find(key), group);
      }),
      { numRuns: 200 },
    );
  });

  it('holds dense integer keys by direct address, in less of memory than the hash table', () => {
    const direct = new NumberIndex();
    const hashed = new NumberIndex();
    hashed.find(0.5);
    hashed.insert(0);
    for (let i = 0; i < 500_000; i++) {
      // ids 0, 2, 4, ... going up, and -2, -4, ... going down: the array grows both ways
      const key = i % 2 === 0 ? i : -i - 1;
      assert.equal(direct.find(key), -1);
      direct.insert(i);
      assert.equal(hashed.find(key), -1);
      hashed.insert(i + 1);
    }
    // 4 bytes a slot over a range of twice the keys, and room to grow (2M slots: 8 MB), against
    // 12 bytes a slot at twice the keys (1M slots: 12 MB)
    assert.ok(direct.bytes <= hashed.bytes * 0.7, `${direct.bytes} bytes direct, ${hashed.bytes} hashed`);
    assert.ok(direct.growthBytes(1000) <= direct.bytes);
    for (let i = 0; i < 500_000; i += 101) {
      const key = i % 2 === 0 ? i : -i - 1;
      assert.equal(direct.find(key), i);
      assert.equal(direct.find(key + 0.5), -1);
    }
    // a key far past the range: the keys move to the hash table and are all still found
    assert.equal(direct.find(1e9), -1);
    direct.insert(500_000);
    assert.equal(direct.size, 500_001);
    assert.equal(direct.bytes, hashed.bytes);
    for (let i = 0; i < 500_000; i += 101) assert.equal(direct.find(i % 2 === 0 ? i : -i - 1), i);
    assert.equal(direct.find(1e9), 500_000);
    assert.equal(direct.direct, false);
  });

  it('moves ids that come in no order to direct address once they fill their range', () => {
    const n = 300_000;
    const ids = Array.from({ length: n }, (_, i) => 1e12 + i * 2);
    for (let i = n - 1; i > 0; i--) {
      const j = (i * 7919 + 13) % (i + 1);
      [ids[i], ids[j]] = [ids[j]!, ids[i]!];
    }
    const index = new NumberIndex();
    ids.forEach((id, i) => {
      assert.equal(index.find(id), -1);
      index.insert(i);
    });
    assert.equal(index.direct, true);
    ids.forEach((id, i) => {
      if (i % 37 === 0) assert.equal(index.find(id), i);
    });
    assert.equal(index.find(1e12 + 1), -1);
    assert.equal(index.find(1e12 - 2), -1);
    // a partition's keys (one in 16 of the range, by hash) stay in the hash table
    const part = new NumberIndex();
    for (let i = 0; i < n; i += 16) {
      part.find(ids[i]!);
      part.insert(i);
    }
    assert.equal(part.direct, false);
  });

  it('holds 200k sequential and 200k scattered keys through its growth; clear() empties it', () => {
    const index = new NumberIndex();
    for (let i = 0; i < 200_000; i++) {
      assert.equal(index.find(i * 2), -1);
      index.insert(i);
    }
    for (let i = 0; i < 200_000; i++) {
      const key = ((i * 7919) % 1_000_003) + 0.5;
      if (index.find(key) === -1) index.insert(200_000 + i);
    }
    assert.equal(index.size, 400_000);
    for (let i = 0; i < 200_000; i += 997) {
      assert.equal(index.find(i * 2), i);
      assert.equal(index.find(i * 2 + 1), -1);
    }
    index.clear();
    assert.equal(index.size, 0);
    assert.equal(index.find(0), -1);
  });
});
