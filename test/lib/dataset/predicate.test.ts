import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ErrorCodes, SpillwayError } from '../../../index.ts';
import {
  ANY,
  FALSE,
  TRUE,
  UNKNOWN,
  compareStrings,
  compilePredicate,
  expectPredicate,
  knownValuesLeaf,
  possibleOutcomes,
  rangeLeaf,
  type ColumnRange,
  type Predicate,
} from '../../../lib/dataset/predicate.ts';

const run = (p: Predicate, row: Record<string, unknown>): number => compilePredicate(p)((c) => row[c]);

test('three-valued logic: comparisons with null are unknown, not(unknown) is unknown', () => {
  const gt: Predicate = { col: 'x', op: '>', value: 10 };
  assert.equal(run(gt, { x: 11 }), TRUE);
  assert.equal(run(gt, { x: 10 }), FALSE);
  assert.equal(run(gt, { x: null }), UNKNOWN);
  assert.equal(run(gt, {}), UNKNOWN);
  assert.equal(run({ not: gt }, { x: null }), UNKNOWN);
  assert.equal(run({ or: [gt, { col: 'x', op: 'isNull' }] }, { x: null }), TRUE);
  assert.equal(run({ and: [gt, { col: 'y', op: '=', value: 'a' }] }, { x: 11, y: null }), UNKNOWN);
  assert.equal(run({ col: 'x', op: 'in', values: [1, null] }, { x: 2 }), UNKNOWN);
  assert.equal(run({ col: 'x', op: 'in', values: [1, 2n] }, { x: 2 }), TRUE);
  assert.equal(run({ col: 'x', op: '>', value: 1 }, { x: Number.NaN }), FALSE);
  assert.equal(run({ col: 'x', op: '!=', value: 1 }, { x: Number.NaN }), TRUE);
});

test('values compare across number/bigint, dates with ISO strings, decimal strings with numbers', () => {
  assert.equal(run({ col: 'x', op: '=', value: 9007199254740993n }, { x: 9007199254740993n }), TRUE);
  assert.equal(run({ col: 'x', op: '<', value: 9007199254740993n }, { x: 9007199254740992 }), TRUE);
  assert.equal(run({ col: 'd', op: '>=', value: '2026-11-30' }, { d: new Date('2026-11-30T00:00:00Z') }), TRUE);
  assert.equal(
    run({ col: 'd', op: '<', value: '2026-11-30T12:00:00Z' }, { d: new Date('2026-11-30T00:00:00Z') }),
    TRUE,
  );
  assert.equal(run({ col: 'p', op: '>', value: 12.4 }, { p: '12.50' }), TRUE);
  assert.equal(run({ col: 's', op: '>', value: 1 }, { s: 'abc' }), FALSE);
  // code point order (UTF-8 byte order), not UTF-16 unit order
  assert.ok(compareStrings('\u{1F600}', '\uFFFD') > 0);
  assert.ok('\u{1F600}' < '\uFFFD');
});

test('expectPredicate rejects unknown keys and operators, naming the path', () => {
  const bad = (p: unknown, path: RegExp): void =>
    assert.throws(
      () => expectPredicate(p),
      (e: unknown) => e instanceof SpillwayError && e.code === ErrorCodes.INVALID_OPTION && path.test(e.message),
    );
  bad({ col: 'x', op: 'like', value: 'a' }, /op/);
  bad({ and: [{ col: 'x', op: '=', value: 1, extra: 1 }] }, /options\.where\.and\[0\]\.extra/);
  bad({ or: [] }, /or/);
  bad({ col: 'x', op: '=', value: {} }, /value/);
  bad({ col: 'x', op: 'in', values: 3 }, /values/);
  assert.doesNotThrow(() => expectPredicate({ not: { col: 'x', op: 'isNull' } }));
});

test('partition pruning: known columns decide, unknown columns keep every outcome', () => {
  const leaf = knownValuesLeaf({ date: new Date('2026-11-30T00:00:00Z'), symbol: null });
  assert.equal(possibleOutcomes({ col: 'date', op: '=', value: '2026-11-29' }, leaf), FALSE);
  assert.equal(possibleOutcomes({ col: 'price', op: '>', value: 1 }, leaf), ANY);
  assert.equal(
    possibleOutcomes(
      {
        and: [
          { col: 'date', op: '=', value: '2026-11-29' },
          { col: 'price', op: '>', value: 1 },
        ],
      },
      leaf,
    ) & TRUE,
    0,
  );
  assert.equal(possibleOutcomes({ not: { col: 'symbol', op: '=', value: 'A' } }, leaf), UNKNOWN);
});

/** The range statistics would report for `values` (ignoring NaN, as Parquet writers do). */
function rangeOf(values: readonly (number | null)[], exact: boolean): ColumnRange {
  const present = values.filter((v): v is number => v !== null && !Number.isNaN(v));
  const nullCount = values.filter((v) => v === null).length;
  if (present.length === 0) return { rows: values.length, nullCount, exact, nanPossible: true };
  const min = Math.min(...present);
  const max = Math.max(...present);
  // truncated bounds: still bounds, just looser
  return {
    rows: values.length,
    nullCount,
    min: exact ? min : min - 0.5,
    max: exact ? max : max + 0.5,
    exact,
    nanPossible: true,
  };
}

const value = fc.oneof(fc.integer({ min: -5, max: 5 }), fc.constant(null), fc.constant(Number.NaN));
const leafArb: fc.Arbitrary<Predicate> = fc.oneof(
  fc.record({
    col: fc.constant('x'),
    op: fc.constantFrom('=', '!=', '<', '<=', '>', '>=') as fc.Arbitrary<'='>,
    value: fc.oneof(fc.integer({ min: -6, max: 6 }), fc.constant(null)),
  }),
  fc.record({
    col: fc.constant('x'),
    op: fc.constant('in' as const),
    values: fc.array(fc.oneof(fc.integer({ min: -6, max: 6 }), fc.constant(null)), { maxLength: 3 }),
  }),
  fc.record({ col: fc.constant('x'), op: fc.constantFrom('isNull', 'isNotNull') as fc.Arbitrary<'isNull'> }),
);
const predicateArb: fc.Arbitrary<Predicate> = fc.letrec<{ p: Predicate }>((tie) => ({
  p: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leafArb,
    fc.record({ and: fc.array(tie('p'), { minLength: 1, maxLength: 3 }) }),
    fc.record({ or: fc.array(tie('p'), { minLength: 1, maxLength: 3 }) }),
    fc.record({ not: tie('p') }),
  ),
})).p;

test('statistics pruning is sound: every row outcome is among the possible outcomes (fast-check)', () => {
  fc.assert(
    fc.property(
      fc.array(value, { minLength: 1, maxLength: 12 }),
      predicateArb,
      fc.boolean(),
      (values, predicate, exact) => {
        const range = rangeOf(values, exact);
        const possible = possibleOutcomes(
          predicate,
          rangeLeaf((c) => (c === 'x' ? range : undefined)),
        );
        const testRow = compilePredicate(predicate);
        for (const v of values) {
          const outcome = testRow(() => v);
          if (!(possible & outcome)) return false;
        }
        return true;
      },
    ),
    { numRuns: 3000 },
  );
});

test('statistics prune what they can: a range entirely below the value, all-null groups, no-null groups', () => {
  const range: ColumnRange = { rows: 10, nullCount: 0, min: 1, max: 5, exact: true, nanPossible: false };
  const leaf = rangeLeaf(() => range);
  assert.equal(possibleOutcomes({ col: 'x', op: '>', value: 5 }, leaf) & TRUE, 0);
  assert.notEqual(possibleOutcomes({ col: 'x', op: '>=', value: 5 }, leaf) & TRUE, 0);
  assert.equal(possibleOutcomes({ col: 'x', op: 'isNull' }, leaf) & TRUE, 0);
  assert.equal(possibleOutcomes({ not: { col: 'x', op: '<', value: 10 } }, leaf) & TRUE, 0);
  assert.equal(possibleOutcomes({ col: 'x', op: 'in', values: [0, 6] }, leaf) & TRUE, 0);
  const allNull = rangeLeaf(() => ({ rows: 3, nullCount: 3, exact: true, nanPossible: false }));
  assert.equal(possibleOutcomes({ col: 'x', op: '=', value: 1 }, allNull), UNKNOWN);
  // no statistics: nothing is pruned
  assert.equal(
    possibleOutcomes(
      { col: 'x', op: '>', value: 5 },
      rangeLeaf(() => undefined),
    ),
    ANY,
  );
  // a NaN-capable column never proves "all true", so not(x < 10) keeps the group
  const floats = rangeLeaf(() => ({ ...range, nanPossible: true }));
  assert.notEqual(possibleOutcomes({ not: { col: 'x', op: '<', value: 10 } }, floats) & TRUE, 0);
});
