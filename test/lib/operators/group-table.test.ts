/**
 * The columnar group table: one group per key under the spill encoding's equality (any width),
 * Arrow key columns coded from their bytes exactly as rows would be, typed aggregate states that
 * give the row aggregates' results, and partial states that merge through spilled chunks into
 * what one table would hold.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Float32, Float64, Int8, Int32, RecordBatch, Uint32, Utf8, vectorFromArray } from 'apache-arrow';
import type { Row } from '../../../lib/core/batch.ts';
import { rowsToRecordBatch } from '../../../lib/formats/arrow/build.ts';
import { recordBatchToRows } from '../../../lib/formats/arrow/to-rows.ts';
import { simpleType } from '../../../lib/operators/output-columns.ts';
import { inferredColumn } from '../../../lib/operators/input-types.ts';
import { RowViewer } from '../../../lib/core/row-view.ts';
import { GroupTable, type TablePlan } from '../../../lib/operators/group-table.ts';
import { GroupIndex } from '../../../lib/operators/group-index.ts';
import { columnGetter, encodeValue } from '../../../lib/operators/key-encoding.ts';
import { encodeKeyValues } from '../../../lib/operators/key-trie.ts';
import { count, sum, mean, min, max, first, last, type Aggregate } from '../../../lib/operators/aggregates.ts';

const value = fc.oneof(
  fc.constant(null),
  fc.constantFrom(Number.NaN, -0, 0, 1, 1.5, 2 ** 53, 2 ** 60, -(2 ** 61), Number.POSITIVE_INFINITY),
  fc.integer({ min: -3, max: 3 }),
  fc.constantFrom(0n, 1n, 2n ** 53n, 2n ** 60n),
  fc.boolean(),
  fc.constantFrom('', 'a', '1', 'é', '😀', '\udfff', '\udfffsx', 'n;'),
  fc.constantFrom(new Date(0), new Date(1)),
);

function plan(keys: string[], aggs: Record<string, Aggregate>, keepRows = false): TablePlan {
  return {
    keyNames: keys,
    keys: keys.map(columnGetter),
    names: Object.keys(aggs),
    aggregates: Object.values(aggs),
    keepRows,
  };
}

/** The rows as one Arrow batch, or undefined when their values have no Arrow type together. */
function rowsToRecordBatchOrUndefined(rows: Row[]): RecordBatch | undefined {
  try {
    return rowsToRecordBatch(rows);
  } catch {
    return undefined;
  }
}

const canon = (rows: Row[]): string[] =>
  rows.map((r) => encodeKeyValues(Object.values(r as Record<string, unknown>))).sort();

describe('group table', () => {
  it('holds one group per key combination, at widths 1 to 3', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(value, value, value), { maxLength: 80 }), (tuples) => {
        for (const width of [1, 2, 3]) {
          const keys = ['a', 'b', 'c'].slice(0, width);
          const rows = tuples.map(([a, b, c]) => ({ a, b, c }));
          const table = new GroupTable(plan(keys, { n: count() }));
          table.add(rows.length, (i) => rows[i]!);
          const expected = new Map<string, number>();
          for (const row of rows) {
            const key = encodeKeyValues(keys.map((k) => (row as Record<string, unknown>)[k]));
            expected.set(key, (expected.get(key) ?? 0) + 1);
          }
          const out = table.output(0, table.size) as Record<string, unknown>[];
          assert.equal(out.length, expected.size);
          for (const row of out) assert.equal(row.n, expected.get(encodeKeyValues(keys.map((k) => row[k]))));
        }
      }),
      { numRuns: 300 },
    );
  });

  it('grows a key dictionary of a value per row at once to the groups it expects, and not one of fewer values', () => {
    // u: a new value every row; q: 5,000 values over 30,000 rows (one key column each: no group index)
    const fill = (key: string, groups?: number): GroupTable => {
      const table = new GroupTable(plan([key], { n: count() }), groups);
      for (let from = 0; from < 30_000; from += 10_000)
        table.add(10_000, (i) => ({ u: from + i, q: (from + i) % 5000 }));
      return table;
    };
    const u = fill('u', 200_000);
    assert.equal(u.size, 30_000);
    assert.deepEqual(u.output(29_990, 30_000), fill('u').output(29_990, 30_000));
    // a number table takes 20 bytes per entry of capacity: u's grew to 262,144 (2^18 >= 200k), not
    // 32,768; q's stayed at 8,192 (at 262,144 it would take 5 MB more)
    assert.equal(u.bytes - fill('u').bytes, (262_144 - 32_768) * 20);
    assert.equal(fill('q', 200_000).bytes - fill('q').bytes, 0);
  });

  it('outputBatch: Arrow with the values output() gives when every column is plain, else those rows', () => {
    const plainKey = fc.oneof(
      fc.constant(null),
      fc.constantFrom('', 'a', 'é', '😀', 'XNAS'),
      fc.string({ maxLength: 3 }),
    );
    fc.assert(
      fc.property(
        fc.array(
          fc.record({ a: plainKey, b: value, x: fc.oneof(fc.constant(null), fc.integer({ min: -9, max: 9 })) }),
          {
            maxLength: 60,
          },
        ),
        fc.boolean(),
        (rows, viaArrow) => {
          const keys = ['a', 'b'];
          const table = new GroupTable(plan(keys, { n: count(), s: sum('x'), lo: min('x') }));
          // an Arrow batch codes text keys as bytes (the path that copies them out without strings)
          const arrow = viaArrow ? rowsToRecordBatchOrUndefined(rows) : undefined;
          if (arrow) {
            const viewer = new RowViewer(arrow);
            if (!table.addArrow(arrow, (i) => viewer.at(i))) table.add(rows.length, (i) => rows[i]!);
          } else table.add(rows.length, (i) => rows[i]!);
          const expected = table.output(0, table.size);
          const out = table.outputBatch(0, table.size);
          // rows only for a reason: a column with no plain type (not all numbers, strings or booleans,
          // a lone surrogate, all null) and no inferred one (all dates, all lists of plain values)
          const noType = ['a', 'b', 'n', 's', 'lo'].some((name) => {
            const values = expected.map((r) => (r as Record<string, unknown>)[name]);
            return simpleType(values) === undefined && inferredColumn(name, values) === undefined;
          });
          if (Array.isArray(out)) {
            assert.deepEqual(out, expected);
            assert.ok(table.size === 0 || noType);
          } else {
            assert.ok(!noType);
            assert.deepEqual(recordBatchToRows(out), expected);
            assert.deepEqual(
              out.schema.fields.map((f) => f.name),
              ['a', 'b', 'n', 's', 'lo'],
            );
          }
          // a slice starts inside the text arena (textColumn copies runs of adjacent entries)
          const from = Math.floor(table.size / 3);
          const slice = table.outputBatch(from, table.size);
          assert.deepEqual(Array.isArray(slice) ? slice : recordBatchToRows(slice), expected.slice(from));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('simpleType: numbers, strings, booleans (nulls aside); none for a lone surrogate, mixed kinds or only nulls', () => {
    assert.equal(String(simpleType([1, null, Number.NaN, -0])), 'Float64');
    assert.equal(String(simpleType(['', '😀', null])), 'Utf8');
    assert.equal(String(simpleType([true, null])), 'Bool');
    for (const values of [
      ['a\ud800'],
      ['\udfffsx', 'b'],
      [1, 'a'],
      [1, undefined],
      [1n],
      [new Date(0)],
      [null, null],
      [],
    ])
      assert.equal(simpleType(values), undefined, String(values));
  });

  it('codes Arrow key columns (Utf8 by bytes) as the same rows would be coded', () => {
    // no lone surrogate: Arrow's Utf8 cannot hold one (rowsToRecordBatch refuses it; it wrote U+FFFD)
    const text = fc.oneof(fc.constant(null), fc.constantFrom('', 'a', 'é', '😀', 'XNAS'), fc.string({ maxLength: 4 }));
    fc.assert(
      fc.property(
        fc.array(fc.record({ s: text, q: fc.oneof(fc.constant(null), fc.integer({ min: -2, max: 2 })) }), {
          minLength: 1,
          maxLength: 60,
        }),
        (rows) => {
          const batch = rowsToRecordBatch(rows);
          const viewer = new RowViewer(batch);
          const fromArrow = new GroupTable(plan(['s', 'q'], {}, true));
          assert.equal(
            fromArrow.addArrow(
              batch,
              (i) => viewer.at(i),
              (i) => viewer.materialize(i),
            ),
            true,
          );
          // a second batch of the same values meets the byte table's entries
          assert.equal(
            fromArrow.addArrow(
              batch,
              (i) => viewer.at(i),
              (i) => viewer.materialize(i),
            ),
            true,
          );
          const fromRows = new GroupTable(plan(['s', 'q'], {}, true));
          const materialized = rows.map((_, i) => viewer.materialize(i));
          fromRows.add(materialized.length, (i) => materialized[i]!);
          assert.deepEqual(canon(fromArrow.output(0, fromArrow.size)), canon(fromRows.output(0, fromRows.size)));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('aggregates plain numeric Arrow columns (read directly) as the same rows would aggregate', () => {
    const num = fc.oneof(
      fc.constant(null),
      fc.constantFrom(Number.NaN, -0, 0, 1.5, -2.25, Number.POSITIVE_INFINITY, 3e300),
      fc.integer({ min: -1000, max: 1000 }),
    );
    const int = fc.oneof(fc.constant(null), fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }));
    const types = [new Float64(), new Float32(), new Int32(), new Int8(), new Uint32()];
    fc.assert(
      fc.property(
        fc.array(fc.record({ k: fc.constantFrom('a', 'b', 'c'), x: num, i: int }), { minLength: 2, maxLength: 80 }),
        fc.integer({ min: 0, max: types.length - 1 }),
        fc.nat(),
        (rows, t, cut) => {
          const type = types[t]!;
          const fit = (v: number | null): number | null =>
            v === null || type instanceof Float64 || type instanceof Float32 ? v : Number.isFinite(v) ? v : null;
          const x = vectorFromArray(
            rows.map((r) => fit(r.x)),
            type as Float64,
          );
          const k = vectorFromArray(
            rows.map((r) => r.k),
            new Utf8(),
          );
          const whole = new RecordBatch({
            k: k.data[0]!,
            x: x.data[0]!,
            i: vectorFromArray(
              rows.map((r) => r.i),
              new Int32(),
            ).data[0]!,
          });
          // a slice: its columns start at an offset into their buffers and validity bitmaps
          const from = cut % rows.length;
          const batch = whole.slice(from);
          const aggs = { n: count('x'), s: sum('x'), m: mean('x'), lo: min('x'), hi: max('x'), si: sum('i') };
          const viewer = new RowViewer(batch);
          const fromArrow = new GroupTable(plan(['k'], aggs));
          assert.equal(
            fromArrow.addArrow(batch, (j) => viewer.at(j)),
            true,
          );
          const materialized = Array.from({ length: batch.numRows }, (_, j) => viewer.materialize(j));
          const fromRows = new GroupTable(plan(['k'], aggs));
          fromRows.add(materialized.length, (j) => materialized[j]!);
          const sorted = (table: GroupTable): Row[] =>
            (table.output(0, table.size) as Record<string, unknown>[]).sort((a, b) =>
              String(a.k).localeCompare(String(b.k)),
            );
          assert.deepEqual(sorted(fromArrow), sorted(fromRows));
        },
      ),
      { numRuns: 300 },
    );
  });

  // distinct keeps each group's first row; a row that is just its key values is rebuilt from the
  // dictionaries, which must give the same values in the same form (-0, bigint, Dates)
  const sameForm = (a: unknown, b: unknown): boolean =>
    Object.is(a, b) || (a instanceof Date && b instanceof Date && a.getTime() === b.getTime());
  function assertFirstRows(table: GroupTable, firsts: Map<string, Row>, names: string[]): void {
    const out = table.output(0, table.size) as Record<string, unknown>[];
    assert.equal(out.length, firsts.size);
    for (const row of out) {
      const want = firsts.get(encodeKeyValues(names.map((k) => row[k]))) as Record<string, unknown>;
      assert.deepEqual(Object.keys(row), Object.keys(want));
      for (const k of Object.keys(want))
        assert.ok(sameForm(row[k], want[k]), `${k}: ${String(row[k])} vs ${String(want[k])}`);
    }
  }
  const firstRows = (rows: Row[], names: string[]): Map<string, Row> => {
    const firsts = new Map<string, Row>();
    for (const row of rows) {
      const key = encodeKeyValues(names.map((k) => (row as Record<string, unknown>)[k]));
      if (!firsts.has(key)) firsts.set(key, row);
    }
    return firsts;
  };
  const allGroups = (t: GroupTable): number[] => Array.from({ length: t.size }, (_, g) => g);

  it('distinct gives the first row of each group in its exact form, from rows and through chunks', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(value, value), { maxLength: 60 }),
        fc.array(fc.boolean(), { maxLength: 60 }),
        (tuples, extra) => {
          // some rows carry a column that is no key: those rows must be kept whole
          const rows: Row[] = tuples.map(([a, b], i) => (extra[i] ? { a, b, x: i } : { a, b }));
          const table = new GroupTable(plan(['a', 'b'], {}, true));
          table.add(rows.length, (i) => rows[i]!);
          const firsts = firstRows(rows, ['a', 'b']);
          assertFirstRows(table, firsts, ['a', 'b']);
          const merged = new GroupTable(plan(['a', 'b'], {}, true));
          merged.mergeChunk(structuredClone(table.chunk(allGroups(table))));
          assertFirstRows(merged, firsts, ['a', 'b']);
        },
      ),
      { numRuns: 400 },
    );
  });

  it('distinct of Arrow batches keeps -0, bigints and first rows exact, without copying rows that are their keys', () => {
    const rows: Row[] = [
      { x: 0, s: 'b', n: 5n },
      { x: -0, s: 'a', n: 5n },
      { x: 0, s: 'a', n: 5n },
      { x: Number.NaN, s: 'a', n: 7n },
      { x: 1.5, s: null, n: 5n },
    ];
    // `n` is all bigints: its Int64 column carries the mark, so rows read back as bigints
    const batch = rowsToRecordBatch(rows);
    const viewer = new RowViewer(batch);
    const table = new GroupTable(plan(['x', 's', 'n'], {}, true));
    table.addArrow(
      batch,
      (i) => viewer.at(i),
      (i) => viewer.materialize(i),
    );
    const shown = rows.map((_, i) => viewer.materialize(i));
    assert.equal(typeof (shown[0] as { n: unknown }).n, 'bigint');
    assertFirstRows(table, firstRows(shown, ['x', 's', 'n']), ['x', 's', 'n']);
    // only the -0 row differs in form from what its dictionary keeps: the only row copied
    const chunk = table.chunk(allGroups(table));
    assert.equal(chunk.rows?.filter((r) => r !== undefined).length, 1);
    const merged = new GroupTable(plan(['x', 's', 'n'], {}, true));
    merged.mergeChunk(structuredClone(chunk));
    assertFirstRows(merged, firstRows(shown, ['x', 's', 'n']), ['x', 's', 'n']);
    // without -0, no row is copied, and the spilled chunk holds no rows
    const plain = rows.filter((r) => !Object.is((r as { x: number }).x, -0));
    const plainBatch = rowsToRecordBatch(plain);
    const plainView = new RowViewer(plainBatch);
    const lean = new GroupTable(plan(['x', 's', 'n'], {}, true));
    lean.addArrow(
      plainBatch,
      (i) => plainView.at(i),
      (i) => plainView.materialize(i),
    );
    assert.equal(lean.chunk(allGroups(lean)).rows, undefined);
  });

  it('groupBy keys of a marked Int64 column stay bigints', () => {
    const rows: Row[] = [{ id: 1n }, { id: 2n }, { id: 1n }];
    const batch = rowsToRecordBatch(rows);
    const viewer = new RowViewer(batch);
    const table = new GroupTable(plan(['id'], { n: count() }));
    table.addArrow(batch, (i) => viewer.at(i));
    assert.deepEqual(table.output(0, table.size), [
      { id: 1n, n: 2 },
      { id: 2n, n: 1 },
    ]);
  });

  it('typed states give the row aggregates results, also merged through chunks', () => {
    const num = fc.oneof(
      fc.constant(null),
      fc.constantFrom(Number.NaN, -0, 0, 0.5, 2 ** 52, 2 ** 53 - 1, -(2 ** 53)),
      fc.integer({ min: -5, max: 5 }),
      fc.constantFrom(3n, 2n ** 62n, '1.25', '-0.5', 'b'),
    );
    const aggs = () => ({
      n: count('x'),
      s: sum('x'),
      m: mean('x'),
      lo: min('x'),
      hi: max('x'),
      f: first('x'),
      l: last('x'),
    });
    fc.assert(
      fc.property(
        fc.array(fc.record({ k: fc.integer({ min: 0, max: 3 }), x: num }), { maxLength: 60 }),
        fc.nat(60),
        (rows, cut) => {
          // sums of text take only decimal strings: keep 'b' for min/max by giving sum none
          const clean = rows.map((r) => (r.x === 'b' ? { k: r.k, x: null } : r));
          const whole = new GroupTable(plan(['k'], aggs()));
          whole.add(clean.length, (i) => clean[i]!);
          // the row aggregates, folded one row at a time (over `parts`, their states merged in order)
          const list: Aggregate[] = Object.values(aggs());
          const reference = (parts: (typeof clean)[]) => {
            const byKey = new Map<number, unknown[]>();
            for (const part of parts) {
              const local = new Map<number, unknown[]>();
              for (const row of part) {
                const states = local.get(row.k) ?? list.map((a) => a.init());
                local.set(
                  row.k,
                  states.map((st, i) => list[i]!.add(st, row, { bytes: 0 })),
                );
              }
              for (const [k, states] of local) {
                const earlier = byKey.get(k);
                byKey.set(k, earlier ? earlier.map((st, i) => list[i]!.merge(st, states[i], { bytes: 0 })) : states);
              }
            }
            return [...byKey].map(([k, states]) => ({
              k,
              ...Object.fromEntries(Object.keys(aggs()).map((name, i) => [name, list[i]!.finish(states[i])])),
            }));
          };
          const enc = (rs: Row[]) =>
            rs
              .map((r) =>
                Object.values(r as object)
                  .map((v) => encodeValue(v, true))
                  .join(''),
              )
              .sort();
          assert.deepEqual(enc(whole.output(0, whole.size)), enc(reference([clean])));
          // two tables over the two halves, merged through chunks in input order
          const at = Math.min(cut, clean.length);
          const parts = [clean.slice(0, at), clean.slice(at)].map((part) => {
            const t = new GroupTable(plan(['k'], aggs()));
            t.add(part.length, (i) => part[i]!);
            return t.chunk(Array.from({ length: t.size }, (_, g) => g));
          });
          const merged = new GroupTable(plan(['k'], aggs()));
          for (const chunk of structuredClone(parts)) merged.mergeChunk(chunk);
          assert.deepEqual(enc(merged.output(0, merged.size)), enc(reference([clean.slice(0, at), clean.slice(at)])));
        },
      ),
      { numRuns: 400 },
    );
  });

  it('the index gives each tuple one id, across growth', () => {
    const index = new GroupIndex(2, 4);
    const cols = [new Int32Array(5000), new Int32Array(5000)];
    for (let i = 0; i < 5000; i++) {
      cols[0]![i] = i % 37;
      cols[1]![i] = (i * 7) % 101;
    }
    const seen = new Map<string, number>();
    for (let i = 0; i < 5000; i++) {
      const g = index.find(cols, i);
      const key = `${cols[0]![i]},${cols[1]![i]}`;
      assert.equal(g, seen.get(key) ?? seen.size);
      seen.set(key, g);
    }
    assert.equal(index.size, seen.size);
  });
});
