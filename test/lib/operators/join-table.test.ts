/**
 * The join's column table and its compiled row maker give exactly the rows the generic copy
 * gives (own keys, absent vs undefined; the maker's key order too), whatever the shapes of the
 * left and right rows, and keep duplicate keys' build order, null keys and the matched flags.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Float64, RecordBatch, Utf8, makeVector, vectorFromArray } from 'apache-arrow';
import { recordBatchToRows } from '../../../lib/formats/arrow/to-rows.ts';
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
          output.noteLeft(lefts);
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
    // an inner join's empty table holds no array yet: no match flags (right and full joins
    // only), and the chains and the number index are made as keys come
    assert.equal(table.bytes, 0);
    const added = table.add([{ k: null }, { k: 1 }, { k: 1 }, { k: 'x' }]);
    assert.equal(table.length, 3);
    assert.equal(table.keys, 2);
    assert.ok(added > 0 && table.bytes === added);
    table.clear();
    assert.equal(table.length, 0);
    assert.equal(table.bytes, 0);
    // a full join's table notes matches: a byte a row from the start
    assert.equal(new JoinTable(['k'], true).bytes, 64);
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

describe('JoinTable.addArrow', () => {
  /** A column of an Arrow chunk: its kind and its values by row (nulls only in the kinds that allow them). */
  type Kind = 'f64' | 'i32' | 'f64-nulls' | 'text';
  const columnOf = (kind: Kind, values: (number | null)[]) => {
    switch (kind) {
      case 'f64':
        return makeVector(Float64Array.from(values, (v) => v ?? 0.5)).data[0]!;
      case 'i32':
        return makeVector(Int32Array.from(values, (v) => v ?? 7)).data[0]!;
      case 'f64-nulls':
        return vectorFromArray(values, new Float64()).data[0]!;
      default:
        return vectorFromArray(
          values.map((v) => (v === null ? null : `t${v}`)),
          new Utf8(),
        ).data[0]!;
    }
  };
  const number = fc.oneof(
    fc.integer({ min: -3, max: 3 }),
    fc.constantFrom(-0, Number.NaN, 1.5, 2 ** 40),
    fc.constant(null),
  );
  const chunk = fc.record({
    arrow: fc.boolean(),
    rows: fc.integer({ min: 0, max: 12 }),
    columns: fc.uniqueArray(fc.constantFrom('k', 'a', 'b'), { minLength: 1, maxLength: 3 }),
    kinds: fc.array(fc.constantFrom<Kind>('f64', 'i32', 'f64-nulls', 'text'), { minLength: 3, maxLength: 3 }),
    values: fc.array(number, { minLength: 36, maxLength: 36 }),
  });

  it('holds what add() holds for the same rows: values (Float64Array or not), chains, keys, absent columns', () => {
    fc.assert(
      fc.property(fc.array(chunk, { maxLength: 6 }), fc.boolean(), (chunks, keepNull) => {
        const byRows = new JoinTable(['k'], keepNull);
        const byArrow = new JoinTable(['k'], keepNull);
        for (const c of chunks) {
          const cols = Object.fromEntries(
            c.columns.map((name, j) => [name, c.values.slice(j * 12, j * 12 + c.rows)] as const),
          );
          if (!c.arrow) {
            const rows = Array.from({ length: c.rows }, (_, i) =>
              Object.fromEntries(c.columns.map((name) => [name, cols[name]![i]])),
            );
            byRows.add(rows);
            byArrow.add(rows);
            continue;
          }
          const batch = new RecordBatch(
            Object.fromEntries(c.columns.map((name, j) => [name, columnOf(c.kinds[j]!, cols[name]!)])),
          );
          byRows.add(recordBatchToRows(batch));
          byArrow.addArrow(batch);
        }
        assert.equal(byArrow.length, byRows.length);
        assert.equal(byArrow.keys, byRows.keys);
        assert.equal(byArrow.ragged, byRows.ragged);
        assert.deepEqual([...byArrow.names].sort(), [...byRows.names].sort());
        for (let i = 0; i < byRows.length; i++) {
          assert.deepEqual(byArrow.row(i), byRows.row(i), `row ${i}`);
          assert.equal(byArrow.next(i), byRows.next(i), `chain after row ${i}`);
        }
        for (const name of byRows.names) {
          const values = byArrow.values(byArrow.names.indexOf(name));
          assert.equal(values.length, byArrow.length, `${name}: one value a row`);
        }
        const get = [columnGetter('k')];
        for (const v of [0, 1, -3, 1.5, Number.NaN, 2 ** 40, 't1', 'x'])
          assert.equal(byArrow.find({ k: v }, get), byRows.find({ k: v }, get), `key ${String(v)}`);
      }),
      { numRuns: 400 },
    );
  });

  it('holds an Arrow number column without nulls in 8 bytes a value', () => {
    const table = new JoinTable(['k'], false);
    const n = 10_000;
    const batch = new RecordBatch({
      k: makeVector(Int32Array.from({ length: n }, (_, i) => i)).data[0]!,
      p: makeVector(Float64Array.from({ length: n }, (_, i) => i + 0.5)).data[0]!,
    });
    const added = table.addArrow(batch);
    assert.ok(ArrayBuffer.isView(table.values(1)), 'a Float64Array');
    // the bytes are the arrays' as allocated: two Float64Array columns of 10,000 slots and the
    // number index, the keys 0..9,999 by direct address (4 bytes a slot, 16,384 of them); no
    // chains (no key came twice), no match flags (an inner join): no boxed double, no JS array
    assert.equal(table.bytes, 2 * 8 * n + 4 * 16_384);
    assert.ok(added <= table.bytes);
    // what more rows would allocate: one more, the columns grow by half (the index has room);
    // 6,385 more (16,385 rows, keys as dense as these), the index doubles too
    assert.equal(table.growthBytes(1), 2 * 8 * (n / 2));
    assert.equal(table.growthBytes(6_385), 4 * 16_384 + 2 * 8 * 6_385);
    // a second batch grows the arrays, and its keys, all seen, make the chains (8 bytes a row of
    // room: 32,768 rows): the first batch's values stay
    table.addArrow(batch);
    assert.equal(table.length, 2 * n);
    assert.equal(table.bytes, 2 * 8 * (2 * n) + 4 * 16_384 + 8 * 32_768);
    assert.deepEqual(
      [0, n - 1, n, 2 * n - 1].map((i) => table.values(1)[i]),
      [0.5, n - 0.5, 0.5, n - 0.5],
    );
    assert.equal(table.next(0), n, 'the key 0 twice: chained');
    table.add([{ k: -1, p: null }]);
    assert.ok(!ArrayBuffer.isView(table.values(1)), 'a JS array once a null came');
    assert.deepEqual(
      [0, n - 1, 2 * n - 1].map((i) => table.values(1)[i]),
      [0.5, n - 0.5, n - 0.5],
    );
    assert.equal(table.values(1)[2 * n], null);
  });
});
