/**
 * The join's column table and its compiled row maker give exactly the rows the generic copy
 * gives (own keys, absent vs undefined; the maker's key order too), whatever the shapes of the
 * left and right rows, and keep duplicate keys' build order, null keys and the matched flags.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { Row } from '../../../lib/core/batch.ts';
import { columnGetter } from '../../../lib/operators/key-encoding.ts';
import { JoinOutput } from '../../../lib/operators/join-output.ts';
import { JoinTable } from '../../../lib/operators/join-table.ts';
import { JoinedRowMaker } from '../../../lib/operators/joined-row.ts';

/** What a joined row must be: a copy of the left row, then each right column under its output name. */
function expectedJoin(left: Row, right: Row, output: JoinOutput): [string, unknown][] {
  const out = Object.entries(left);
  for (const [name, value] of Object.entries(right)) {
    const target = output.rightName(name);
    if (target === null) continue;
    const at = out.findIndex(([k]) => k === target);
    if (at >= 0) out[at] = [target, value];
    else out.push([target, value]);
  }
  return out;
}

// no right column is named like another's rename (`a_right`): two right columns would then
// write one output name, and which one wins is unspecified
const leftName = fc.constantFrom('k', 'a', 'b', 'c', 'a_right');
const rightName = fc.constantFrom('k', 'a', 'b', 'c');
const value = fc.oneof(fc.constant(undefined), fc.constant(null), fc.integer({ min: 0, max: 2 }), fc.string());
const rowOf = (keyValues: fc.Arbitrary<unknown>, name = leftName) =>
  fc
    .tuple(fc.dictionary(name, value, { maxKeys: 4 }), keyValues)
    .map(([row, k]) => Object.assign(row, { k }) as Record<string, unknown>);

describe('JoinTable', () => {
  it('joined rows equal the generic copy for any left and right shapes (compiled or not)', () => {
    fc.assert(
      fc.property(
        fc.array(rowOf(fc.constantFrom(1, 2, null), rightName), { maxLength: 12 }),
        fc.array(rowOf(fc.constantFrom(1, 2, 3, null)), { minLength: 1, maxLength: 12 }),
        (rights, lefts) => {
          const output = new JoinOutput(['k']);
          output.noteLeft(lefts[0]!);
          if (rights.length > 0) output.noteRight(rights[0]!);
          const table = new JoinTable(['k'], true);
          table.add(rights);
          const get = [columnGetter('k')];
          for (const left of lefts) {
            const out: Row[] = [];
            const head = left.k === null ? -1 : table.find(left, get);
            if (head !== -1) table.joinChain(out, left, head, output);
            const matches = rights.filter((r) => r.k !== null && r.k === left.k);
            // right columns come in the table's column order: compared as objects, not entry lists
            assert.deepEqual(
              out.map((row) => ({ ...row })),
              matches.map((right) => Object.fromEntries(expectedJoin(left, right, output))),
            );
          }
          // unmatched: the right rows no left key met, null keys included, in build order (a row
          // comes back with its columns in the table's column order)
          const met = new Set(lefts.map((l) => l.k).filter((k) => k !== null));
          const unmatched = [...table.unmatched()].map((i) => ({ ...table.row(i) }));
          assert.deepEqual(
            unmatched,
            rights.filter((r) => r.k === null || !met.has(r.k)).map((r) => ({ ...r })),
          );
        },
      ),
      { numRuns: 300 },
    );
  });

  it('drops null-key rows unless asked to keep them, and counts keys and bytes', () => {
    const table = new JoinTable(['k'], false);
    const added = table.add([{ k: null }, { k: 1 }, { k: 1 }, { k: 'x' }]);
    assert.equal(table.length, 3);
    assert.equal(table.keys, 2);
    assert.ok(added > 0 && table.bytes === added);
    table.clear();
    assert.equal(table.length, 0);
    assert.equal(table.bytes, 0);
  });
});

describe('JoinedRowMaker', () => {
  it('builds the output shape, and refuses rows of another shape and names it cannot write', () => {
    const maker = JoinedRowMaker.compile(['id', 'x y', '"q"'], ['r']);
    assert.ok(maker);
    const left = { id: 1, 'x y': 2, '"q"': 3 };
    assert.ok(maker.fits(left));
    assert.deepEqual(Object.entries(maker.make(left, [['a', 'b']], 1)), [
      ['id', 1],
      ['x y', 2],
      ['"q"', 3],
      ['r', 'b'],
    ]);
    assert.equal(maker.fits({ 'x y': 2, id: 1, '"q"': 3 }), false, 'another key order');
    assert.equal(maker.fits({ id: 1, 'x y': 2 }), false, 'a key fewer');
    assert.equal(JoinedRowMaker.compile(['__proto__'], ['r']), undefined);
    assert.equal(JoinedRowMaker.compile(['a'], ['a']), undefined);
  });
});

describe('JoinTable.findNumber', () => {
  it('finds what find finds for any number key: -0 as 0, every NaN as one, unsafe integers, text and bigints apart', () => {
    const keyValue = fc.oneof(
      fc.double(),
      fc.integer({ min: -3, max: 3 }),
      fc.constantFrom(0, -0, Number.NaN, 2 ** 60, -(2 ** 60), 2 ** 53, 2 ** 53 + 2, 1.5, Infinity),
      fc.constantFrom('1', '', 'NaN'),
      fc.constantFrom(1n, 2n ** 60n),
    );
    const probeValue = fc.oneof(
      fc.double(),
      fc.integer({ min: -3, max: 3 }),
      fc.constantFrom(0, -0, Number.NaN, 2 ** 60, -(2 ** 60), 2 ** 53, 2 ** 53 + 2, 1.5, Infinity),
    );
    fc.assert(
      fc.property(fc.array(keyValue, { maxLength: 40 }), fc.array(probeValue, { maxLength: 40 }), (keys, probes) => {
        const table = new JoinTable(['k'], false);
        table.add(keys.map((k, i) => ({ k, i })));
        const get = [columnGetter('k')];
        for (const v of [...probes, ...keys.filter((k): k is number => typeof k === 'number')]) {
          assert.equal(table.findNumber(v), table.find({ k: v }, get), `key ${String(v)}`);
        }
      }),
      { numRuns: 300 },
    );
  });
});
