/**
 * The key trie of the hash operators: its canonical keys equate exactly the values the spill
 * encoding equates (a group met in memory and the same group read back from a partition must
 * agree), and find/insert/replace/groups keep one group per key across trie depths.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { encodeValue, columnGetter } from '../../../lib/operators/key-encoding.ts';
import { KeyTrie, canonicalKey, encodeKeyValues } from '../../../lib/operators/key-trie.ts';

/** Values a key column may hold, awkward ones included. */
const value = fc.oneof(
  fc.constant(null),
  fc.constant(undefined),
  fc.constantFrom(Number.NaN, -0, 0, 1, 1.5, 2 ** 53, 2 ** 60, -(2 ** 61), Number.POSITIVE_INFINITY),
  fc.integer({ min: -3, max: 3 }),
  fc.constantFrom(0n, 1n, -3n, 2n ** 53n, 2n ** 60n, -(2n ** 61n), 2n ** 53n + 1n),
  fc.boolean(),
  fc.constantFrom('', 'a', '1', 'i1;', 'é', '😀', '\udfff', '\udfffi1;', '\udfffsx', 'n;'),
  fc.string({ maxLength: 3, unit: 'grapheme' }),
  fc.constantFrom(new Date(0), new Date(1), new Date(0)),
  fc.constantFrom(Uint8Array.of(1, 2), Uint8Array.of(1, 2), Uint8Array.of()),
);

describe('key trie', () => {
  it('equates two values exactly when their spill encodings are equal', () => {
    fc.assert(
      fc.property(value, value, (a, b) => {
        const same = encodeValue(a, false) === encodeValue(b, false);
        assert.equal(Object.is(canonicalKey(a), canonicalKey(b)) || canonicalKey(a) === canonicalKey(b), same);
      }),
      { numRuns: 5000 },
    );
  });

  it('holds one group per key combination, at any depth', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(value, value, value), { maxLength: 60 }), (tuples) => {
        for (const depth of [1, 2, 3]) {
          const columns = ['a', 'b', 'c'].slice(0, depth);
          const trie = new KeyTrie<{ n: number; key: string }>(depth);
          const expected = new Map<string, number>();
          for (const [a, b, c] of tuples) {
            const row = { a, b, c };
            const key = encodeKeyValues(columns.map((name) => (row as Record<string, unknown>)[name]));
            expected.set(key, (expected.get(key) ?? 0) + 1);
            const group = trie.find(row, columns.map(columnGetter));
            if (group === undefined) trie.insert({ n: 1, key });
            else trie.replace({ n: group.n + 1, key: group.key });
          }
          assert.equal(trie.size, expected.size);
          const seen = new Map<string, number>();
          for (const group of trie.groups()) seen.set(group.key, group.n);
          assert.deepEqual(seen, expected);
          // draining empties it
          assert.equal([...trie.groups(true)].length, expected.size);
          assert.equal([...trie.groups()].length, 0);
        }
      }),
      { numRuns: 300 },
    );
  });
});
