/**
 * The join's number key index finds what a Map (SameValueZero) finds, for any numbers: -0 and 0
 * one key, every NaN one key, fractions, infinities, integers past int32, and through the table's
 * growth from 1,024 slots.
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

describe('NumberIndex', () => {
  it('finds the group a Map of the same keys finds, inserting on a miss', () => {
    fc.assert(
      fc.property(fc.array(number, { maxLength: 3000 }), (keys) => {
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
      { numRuns: 60 },
    );
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
