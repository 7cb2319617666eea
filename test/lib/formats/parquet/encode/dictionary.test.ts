/**
 * Dictionary building over bytes (encode/dictionary.ts): entries in order of first occurrence and
 * one index per non-null value, for values that differ only past a 4-byte word, in their last
 * byte, or in length (the hash reads words, the comparison too), with nulls between them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { buildDictionary } from '../../../../../lib/formats/parquet/encode/dictionary.ts';
import { ColumnBuffer } from '../../../../../lib/formats/parquet/encode/column-buffer.ts';

test('property: entries are the distinct values in first-occurrence order and indices give every value back', () => {
  const value: fc.Arbitrary<string | null> = fc.oneof(
    fc.constant(null),
    fc.constantFrom('', 'a', 'ab', 'abc', 'abcd', 'abcde', 'abcdf', 'abce', 'S0455', 'S0456', 'é', 'éé', 'abcdabcd'),
  );
  fc.assert(
    fc.property(fc.array(value, { minLength: 1, maxLength: 400 }), (values) => {
      // the encoder asks for a dictionary only when a chunk holds a value
      fc.pre(values.some((v) => v !== null));
      const col = new ColumnBuffer('string', true);
      for (const v of values) v === null ? col.pushNull() : col.pushString(v);
      const dict = buildDictionary(col);
      const present = values.filter((v): v is string => v !== null);
      const distinct = [...new Set(present)];
      if (distinct.length * 2 > present.length && present.length >= 16) return assert.equal(dict, undefined);
      assert.ok(dict);
      const entries = Array.from({ length: dict.count }, (_, k) =>
        col.data.toString('utf8', dict.starts[k]!, dict.ends[k]!),
      );
      assert.deepEqual(entries, distinct);
      assert.deepEqual(
        Array.from(dict.indices, (k) => entries[k]),
        present,
      );
    }),
    { numRuns: 400 },
  );
});
