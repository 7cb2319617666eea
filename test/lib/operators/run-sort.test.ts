/**
 * The radix run sorter (run-sort.ts) must give exactly the order of the ordering's comparator,
 * ties in input order: checked against a stable comparator sort on random tables with NULLs,
 * NaN, -0, infinities, 64-bit signed and unsigned values, strings sharing long prefixes (as ISO
 * timestamps do), empty strings and non-ASCII text, in both directions and NULL placements, on
 * ranges small enough for insertion sort and big enough for 16-bit digits.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Bool, Float64, Int32, Int64, RecordBatch, Uint64, Utf8, vectorFromArray, type DataType } from 'apache-arrow';
import { SortOrdering } from '../../../lib/operators/sort-keys.ts';
import { RunSorter } from '../../../lib/operators/run-sort.ts';
import { parseSortKeys, type SortKey } from '../../../lib/operators/sort-key-spec.ts';

const COLUMNS: Record<string, DataType> = {
  f: new Float64(),
  i: new Int32(),
  b: new Int64(),
  u: new Uint64(),
  s: new Utf8(),
  t: new Bool(),
};

const floatArb = fc.oneof(
  fc.constantFrom(0, -0, 1.5, -2, 3, 1e300, -1e-300, Number.NaN, Infinity, -Infinity),
  fc.double(),
);
const strArb = fc.oneof(
  fc.constantFrom('', 'a', 'é', '\u{1F600}', '\uE000', 'abcdef', 'abcdefg', 'abcdef\u0000', '2026-01-05T14:30:00.037Z'),
  fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
  fc.string({ unit: 'binary', maxLength: 14 }),
);
const nullable = <T>(arb: fc.Arbitrary<T>): fc.Arbitrary<T | null> => fc.option(arb, { freq: 4, nil: null });
const rowArb = fc.record({
  f: nullable(floatArb),
  i: nullable(fc.oneof(fc.constant(0), fc.integer({ min: -3, max: 3 }), fc.integer())),
  b: nullable(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n })),
  u: nullable(
    fc.oneof(fc.constantFrom(0n, 2n ** 63n, 2n ** 64n - 1n, 2n ** 31n), fc.bigInt({ min: 0n, max: 2n ** 64n - 1n })),
  ),
  s: nullable(strArb),
  t: nullable(fc.boolean()),
});
const keysArb: fc.Arbitrary<SortKey[]> = fc
  .shuffledSubarray(Object.keys(COLUMNS), { minLength: 1, maxLength: 3 })
  .chain((cols) =>
    fc.tuple(
      ...cols.map((column) =>
        fc.record({
          column: fc.constant(column),
          order: fc.constantFrom('asc' as const, 'desc' as const),
          nulls: fc.constantFrom('first' as const, 'last' as const),
        }),
      ),
    ),
  );

type Row = Record<string, unknown>;

function batchOf(rows: readonly Row[]): RecordBatch {
  const columns = Object.fromEntries(
    Object.entries(COLUMNS).map(([name, type]) => [
      name,
      vectorFromArray(rows.map((r) => r[name]) as never, type).data[0]!,
    ]),
  );
  return new RecordBatch(columns);
}

function check(rows: readonly Row[], keys: SortKey[]): void {
  if (rows.length === 0) return;
  // one sliced batch (key buffers used in place, at an offset) or two (key buffers copied)
  const whole = batchOf([rows[rows.length - 1] ?? {}, ...rows]);
  const batches =
    rows.length % 2 === 1
      ? [whole.slice(1)]
      : [batchOf(rows.slice(0, rows.length >> 1)), batchOf(rows.slice(rows.length >> 1))];
  const ordering = new SortOrdering(parseSortKeys(keys));
  ordering.bind(batches[0]!.schema);
  const set = ordering.keySet(batches);
  // the expected order from the unsliced batch (row i is its row i + 1): key building is checked too
  const all = ordering.keySet([whole]);
  const expected = Array.from({ length: rows.length }, (_, i) => i).sort((x, y) =>
    ordering.compare(all, x + 1, all, y + 1),
  );
  const actual = Array.from(new RunSorter(ordering.keys, ordering.compare).sort(set, rows.length));
  assert.deepEqual(actual, expected);
}

test('the radix run sorter orders exactly as the comparator, ties in input order', { timeout: 120_000 }, () => {
  fc.assert(
    fc.property(fc.array(rowArb, { maxLength: 600 }), keysArb, (rows, keys) => check(rows, keys)),
    { numRuns: 150, endOnFailure: true },
  );
});

test('the radix run sorter on ranges past 4096 rows (16-bit digits) with few distinct values', {
  timeout: 120_000,
}, () => {
  fc.assert(
    fc.property(
      fc.array(rowArb, { minLength: 1, maxLength: 40 }),
      fc.integer({ min: 5000, max: 9000 }),
      keysArb,
      fc.integer(),
      (pool, n, keys, seed) => {
        // draw n rows from a small pool: many ties, so every key and depth is reached
        let x = seed >>> 0;
        const rows = Array.from({ length: n }, () => {
          x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
          return pool[x % pool.length]!;
        });
        check(rows, keys);
      },
    ),
    { numRuns: 12, endOnFailure: true },
  );
});
