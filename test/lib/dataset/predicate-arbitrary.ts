/**
 * Random `where` predicates for the pushdown property tests (row groups and pages): comparisons,
 * `in` and null tests over the given columns with values taken from the test's own rows, and
 * `and`/`or`/`not` trees of them.
 */
import fc from 'fast-check';
import type { Predicate, PredicateValue } from '../../../lib/dataset/predicate.ts';

/**
 * Predicates over `cols`, their values from `pick(col, i)` (a value of the test's rows), plus
 * the hand-made `extra` leaves; trees of at most three leaves.
 */
export function predicateArbitrary(
  cols: readonly string[],
  pick: (col: string, i: number) => PredicateValue,
  extra: readonly Predicate[] = [],
): fc.Arbitrary<Predicate> {
  const leaves: fc.Arbitrary<Predicate>[] = [
    fc
      .record({
        col: fc.constantFrom(...cols),
        op: fc.constantFrom('=', '!=', '<', '<=', '>', '>=') as fc.Arbitrary<'='>,
        i: fc.nat(),
      })
      .map(({ col, op, i }) => ({ col, op, value: pick(col, i) })),
    fc
      .record({ col: fc.constantFrom(...cols), is: fc.array(fc.nat(), { minLength: 1, maxLength: 3 }) })
      .map(({ col, is }) => ({ col, op: 'in' as const, values: is.map((i) => pick(col, i)) })),
    fc.record({ col: fc.constantFrom(...cols), op: fc.constantFrom('isNull', 'isNotNull') as fc.Arbitrary<'isNull'> }),
  ];
  if (extra.length > 0) leaves.push(fc.constantFrom(...extra));
  const leaf = fc.oneof(...leaves);
  return fc.oneof(
    leaf,
    fc.record({ and: fc.array(leaf, { minLength: 1, maxLength: 3 }) }),
    fc.record({ or: fc.array(leaf, { minLength: 1, maxLength: 3 }) }),
    leaf.map((p) => ({ not: p })),
    fc.record({ not: fc.record({ and: fc.array(leaf, { minLength: 1, maxLength: 2 }) }) }),
    fc.record({ not: fc.record({ or: fc.array(leaf, { minLength: 1, maxLength: 2 }) }) }),
  );
}
