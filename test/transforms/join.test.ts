/**
 * join against DuckDB for the six kinds, spilling (grace) and in memory, on generated awkward
 * tables; right inputs of every kind; column name collisions; key type mismatches; cleanup.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join as joinPath } from 'node:path';
import fc from 'fast-check';
import { Decimal, Field, Schema, type RecordBatch } from 'apache-arrow';
import type { DuckDBConnection } from '@duckdb/node-api';
import { Batch, BatchSource } from 'spillway/extend';
import { rowsToRecordBatch } from 'spillway/arrow';
import { pipeline, fromIterable, collect, join, toSpill, type JoinHow, type StageStats, type Spilled } from 'spillway';
import { duck, loadTable, query, multiset, tableArbitrary, type TRow } from './operators-helpers.ts';

let db: { conn: DuckDBConnection; close: () => void };
before(async () => {
  db = await duck();
});
after(() => db.close());

const SQL: Record<JoinHow, string> = {
  inner: 'SELECT l.id AS lid, r.id AS rid FROM l JOIN r ON l.k = r.k AND l.g = r.g',
  left: 'SELECT l.id AS lid, r.id AS rid FROM l LEFT JOIN r ON l.k = r.k AND l.g = r.g',
  right: 'SELECT l.id AS lid, r.id AS rid FROM l RIGHT JOIN r ON l.k = r.k AND l.g = r.g',
  full: 'SELECT l.id AS lid, r.id AS rid FROM l FULL JOIN r ON l.k = r.k AND l.g = r.g',
  semi: 'SELECT l.id AS lid FROM l SEMI JOIN r ON l.k = r.k AND l.g = r.g',
  anti: 'SELECT l.id AS lid FROM l ANTI JOIN r ON l.k = r.k AND l.g = r.g',
};

const asLeft = (rows: TRow[]) => rows.map((r) => ({ lid: r.id, k: r.k, g: r.g }));
const asRight = (rows: TRow[]) => rows.map((r) => ({ rid: r.id, k: r.k, g: r.g }));

/** The left rows as Arrow batches of 16 rows (the columnar probe's input). */
function arrowLeft(rows: Record<string, unknown>[]): BatchSource {
  return new BatchSource({
    name: 'left',
    async *open() {
      for (let i = 0; i < rows.length; i += 16)
        yield Batch.fromArrow(rowsToRecordBatch(rows.slice(i, i + 16)), { source: 'left', index: i / 16, rowStart: i });
    },
  });
}

/**
 * The right rows as Arrow record batches of `size` rows: the build reads their values by column
 * (join-table.ts `addArrow`) and, partitioned on one key column, spills them as Arrow.
 */
function arrowRight(rows: Record<string, unknown>[], size = 16): RecordBatch[] {
  const batches: RecordBatch[] = [];
  for (let i = 0; i < rows.length; i += size) batches.push(rowsToRecordBatch(rows.slice(i, i + size)));
  return batches;
}

async function run(
  left: TRow[],
  right: TRow[],
  how: JoinHow,
  budget: number | undefined,
  arrow = false,
  rightArrow = false,
) {
  const rights = asRight(right);
  const result = await pipeline(
    arrow ? arrowLeft(asLeft(left)) : fromIterable(asLeft(left), { batchSize: 16 }),
    join(rightArrow ? arrowRight(rights) : rights, {
      on: ['k', 'g'],
      how,
      ...(budget === undefined ? {} : { budget }),
    }),
    collect(),
  );
  return {
    rows: result.output as Record<string, unknown>[],
    stats: result.stats.stages.find((s: StageStats) => s.name === 'join')!,
  };
}

describe('join', () => {
  for (const how of ['inner', 'left', 'right', 'full', 'semi', 'anti'] as JoinHow[]) {
    it(`${how} matches DuckDB (grace hash join with a tiny budget, and in memory)`, async () => {
      await fc.assert(
        fc.asyncProperty(tableArbitrary(120), tableArbitrary(120), async (left, right) => {
          await loadTable(db.conn, 'l', left);
          await loadTable(db.conn, 'r', right);
          const columns = how === 'semi' || how === 'anti' ? ['lid'] : ['lid', 'rid'];
          const expected = multiset(await query(db.conn, SQL[how]), columns);
          assert.deepEqual(multiset((await run(left, right, how, undefined)).rows, columns), expected);
          // Arrow left batches: probed by column in memory (inner, left, semi, anti), as rows once partitioned
          const columnar = await run(left, right, how, undefined, true);
          assert.deepEqual(multiset(columnar.rows, columns), expected);
          if (left.length > 0) assert.equal(columnar.stats.details.input, 'arrow');
          const spilled = await run(left, right, how, 300, right.length % 2 === 0);
          assert.deepEqual(multiset(spilled.rows, columns), expected);
          if (right.length >= 20) assert.ok((spilled.stats.details.partitionsSpilled as number) > 0, 'spilled');
          // the right side as Arrow batches: read by column, in memory and spilled
          assert.deepEqual(multiset((await run(left, right, how, undefined, false, true)).rows, columns), expected);
          const spilledArrow = await run(left, right, how, 300, right.length % 2 === 1, true);
          assert.deepEqual(multiset(spilledArrow.rows, columns), expected);
          if (right.length >= 20) assert.ok((spilledArrow.stats.details.partitionsSpilled as number) > 0, 'spilled');
        }),
        { numRuns: 10 },
      );
    });
  }

  it('a partitioned inner, left, semi or anti join keeps what fits of its right side in memory (hybrid), matching DuckDB', async () => {
    // a budget of about a third of the right side: the build spills, then the first partitions that
    // fit are read back, and left rows of those are joined as they come (lib/operators/hash-join.ts)
    const sql = (how: JoinHow, on: string) => {
      const cond = on === 'k' ? 'l.k = r.k' : 'l.k = r.k AND l.g = r.g';
      return how === 'semi' || how === 'anti'
        ? `SELECT l.id AS lid FROM l ${how.toUpperCase()} JOIN r ON ${cond}`
        : `SELECT l.id AS lid, r.id AS rid FROM l ${how === 'left' ? 'LEFT' : ''} JOIN r ON ${cond}`;
    };
    let mixed = 0;
    await fc.assert(
      fc.asyncProperty(
        tableArbitrary(200),
        tableArbitrary(200),
        fc.constantFrom<JoinHow>('inner', 'left', 'semi', 'anti'),
        fc.constantFrom('k', 'k,g'),
        fc.boolean(),
        fc.boolean(),
        async (left, right, how, on, arrow, rightArrow) => {
          await loadTable(db.conn, 'l', left);
          await loadTable(db.conn, 'r', right);
          const columns = how === 'semi' || how === 'anti' ? ['lid'] : ['lid', 'rid'];
          const expected = multiset(await query(db.conn, sql(how, on)), columns);
          // one key and plain right values: Arrow left batches take the columnar probe of what is held
          const rights = on === 'k' ? right.map((r) => ({ rid: r.id, k: r.k })) : asRight(right);
          const result = await pipeline(
            arrow ? arrowLeft(asLeft(left)) : fromIterable(asLeft(left), { batchSize: 16 }),
            join(rightArrow ? arrowRight(rights) : rights, {
              on: on.split(','),
              how,
              budget: 40 * right.length + 1,
            }),
            collect(),
          );
          assert.deepEqual(multiset(result.output as Record<string, unknown>[], columns), expected);
          const held = result.stats.stages.find((s: StageStats) => s.name === 'join')!.details.partitionsInMemory;
          if (typeof held === 'number' && held > 0 && held < 16) mixed++;
        },
      ),
      { numRuns: 40 },
    );
    assert.ok(mixed >= 5, `some runs held part of the right side and spilled the rest (${mixed})`);
  });

  it('holds part of a spilled right side and probes Arrow left batches against it by column, matching DuckDB', async () => {
    // thousands of rows (the property above mostly draws small tables): text keys with nulls,
    // duplicates on both sides, keys only one side has
    const key = (i: number) => (i % 97 === 0 ? null : `k${(i * 7919) % 1500}é`);
    const right = Array.from({ length: 3000 }, (_, i) => ({ id: i, k: key(i), g: null, x: i / 4, q: i % 3 }));
    const left = Array.from({ length: 6000 }, (_, i) => ({ id: i, k: key(i * 3 + 1), g: null, x: null, q: null }));
    await loadTable(db.conn, 'l', left);
    await loadTable(db.conn, 'r', right);
    for (const how of ['inner', 'left', 'semi', 'anti'] as JoinHow[]) {
      const columns = how === 'semi' || how === 'anti' ? ['lid'] : ['lid', 'rid', 'x'];
      const select = columns.length === 1 ? 'l.id AS lid' : 'l.id AS lid, r.id AS rid, r.x';
      const kind = how === 'left' ? 'LEFT' : how === 'inner' ? '' : how.toUpperCase();
      const expected = multiset(await query(db.conn, `SELECT ${select} FROM l ${kind} JOIN r ON l.k = r.k`), columns);
      for (const arrow of [true, false]) {
        const result = await pipeline(
          arrow ? arrowLeft(asLeft(left)) : fromIterable(asLeft(left), { batchSize: 64 }),
          join(
            right.map((r) => ({ rid: r.id, k: r.k, x: r.x })),
            { on: 'k', how, budget: 60_000 },
          ),
          collect(),
        );
        assert.deepEqual(
          multiset(result.output as Record<string, unknown>[], columns),
          expected,
          `${how} arrow=${arrow}`,
        );
        const details = result.stats.stages.find((s: StageStats) => s.name === 'join')!.details;
        const held = details.partitionsInMemory as number;
        assert.ok(held > 0 && held < 16, `${how}: part of the right side held (${held} of 16)`);
        if (arrow) assert.equal(details.input, 'arrow');
      }
    }
  });

  it('reads an Arrow right side by column, in memory and spilled as Arrow partitions, for every kind, matching DuckDB', async () => {
    // the build reads Arrow batches' values by column (join-table.ts addArrow); partitioned on one
    // key column, the right batches are split by column into Arrow partitions, which must send each
    // key where the left side's rows and Arrow batches send it. Text keys (k) and integer keys (g),
    // with nulls and duplicates on both sides; a budget that holds back only some partitions.
    const text = (i: number) => (i % 97 === 0 ? null : `k${(i * 7919) % 1500}é`);
    const int = (i: number) => (i % 89 === 0 ? null : (i * 7919) % 1500);
    const right = Array.from({ length: 2000 }, (_, i) => ({ id: i, k: text(i), g: int(i), x: i / 4, q: i % 3 }));
    const left = Array.from({ length: 3000 }, (_, i) => ({
      id: i,
      k: text(i * 3 + 1),
      g: int(i * 3 + 1),
      x: null,
      q: null,
    }));
    await loadTable(db.conn, 'l', left);
    await loadTable(db.conn, 'r', right);
    for (const on of ['k', 'g']) {
      const rights = arrowRight(
        right.map((r) => ({ rid: r.id, [on]: r[on as 'k' | 'g'], x: r.x })),
        250,
      );
      const lefts = left.map((r) => ({ lid: r.id, [on]: r[on as 'k' | 'g'] }));
      for (const how of ['inner', 'left', 'right', 'full', 'semi', 'anti'] as JoinHow[]) {
        const columns = how === 'semi' || how === 'anti' ? ['lid'] : ['lid', 'rid', 'x'];
        const select = columns.length === 1 ? 'l.id AS lid' : 'l.id AS lid, r.id AS rid, r.x';
        const sql = `SELECT ${select} FROM l ${how === 'inner' ? '' : how.toUpperCase()} JOIN r ON l.${on} = r.${on}`;
        const expected = multiset(await query(db.conn, sql), columns);
        // spilled: each kind on one of the two key types (a partitioned run costs its ~50 files)
        const spilled = ['inner', 'right', 'semi'].includes(how) === (on === 'k');
        for (const budget of spilled ? [undefined, 30_000] : [undefined]) {
          const result = await pipeline(
            arrowLeft(lefts),
            join(rights, { on, how, ...(budget === undefined ? {} : { budget }) }),
            collect(),
          );
          const label = `on ${on} ${how} budget=${budget}`;
          assert.deepEqual(multiset(result.output as Record<string, unknown>[], columns), expected, label);
          const details = result.stats.stages.find((s: StageStats) => s.name === 'join')!.details;
          assert.equal(details.rightRowsIn, 2000, label);
          if (budget !== undefined) {
            assert.ok((details.partitionsSpilled as number) > 0, `${label}: spilled`);
            assert.ok(
              ((details.partitionsInMemory as number | undefined) ?? 0) < 16,
              `${label}: some partitions on disk`,
            );
          }
        }
      }
    }
  });

  it('a partitioned join builds no partition whose left side is empty, unless it outputs right rows alone', async () => {
    // 20,000 right rows (~125 kB a partition against a 100 kB budget: a partition built would be
    // split again) and one left row with a null key (it reaches no partition): only right and
    // full joins, which output unmatched right rows, build the partitions
    const right = Array.from({ length: 20_000 }, (_, i) => ({ k: i, pad: 'x'.repeat(40) }));
    for (const how of ['inner', 'left', 'semi', 'anti', 'right', 'full'] as JoinHow[]) {
      const result = await pipeline(
        fromIterable([{ k: null, l: 1 }]),
        join(right, { on: 'k', how, budget: 100_000 }),
        collect(),
      );
      const outer = how === 'right' || how === 'full';
      const expected = { inner: 0, semi: 0, left: 1, anti: 1, right: 20_000, full: 20_001 }[how];
      assert.equal(result.output.length, expected, how);
      const details = result.stats.stages.find((s: StageStats) => s.name === 'join')!.details;
      assert.equal(details.recursionDepth, outer ? 2 : 1, `${how}: partitions built and split`);
    }
  });

  it('a one-column key (strings, or numbers mixed with bigints) matches DuckDB when spilled', async () => {
    // partitions key such rows by the value's canonical form, not an encoded string
    await fc.assert(
      fc.asyncProperty(
        tableArbitrary(80),
        tableArbitrary(80),
        fc.constantFrom('k', 'g'),
        fc.constantFrom<JoinHow>('inner', 'full'),
        async (left, right, on, how) => {
          await loadTable(db.conn, 'l', left);
          await loadTable(db.conn, 'r', right);
          const sql = `SELECT l.id AS lid, r.id AS rid FROM l ${how === 'full' ? 'FULL' : ''} JOIN r ON l.${on} = r.${on}`;
          const expected = multiset(await query(db.conn, sql), ['lid', 'rid']);
          const result = await pipeline(
            fromIterable(asLeft(left), { batchSize: 16 }),
            join(asRight(right), { on, how, budget: 300 }),
            collect(),
          );
          assert.deepEqual(multiset(result.output as Record<string, unknown>[], ['lid', 'rid']), expected);
          const stats = result.stats.stages.find((s: StageStats) => s.name === 'join')!;
          if (right.length >= 20) assert.ok((stats.details.partitionsSpilled as number) > 0, 'spilled');
        },
      ),
      { numRuns: 12 },
    );
  });

  it('an Arrow left batch that matches many right rows each comes out in batches of at most batchSize', async () => {
    const left = Array.from({ length: 100 }, (_, i) => ({ k: i % 2 === 0 ? 'a' : 'b', i }));
    const right = Array.from({ length: 200 }, (_, j) => ({ k: 'a', j, note: j % 3 === 0 ? null : `n${j}` }));
    const result = await pipeline(arrowLeft(left), join(right, { on: 'k', batchSize: 1000 }), collect());
    const stats = result.stats.stages.find((s: StageStats) => s.name === 'join')!;
    assert.equal(stats.details.input, 'arrow');
    assert.equal(result.output.length, 50 * 200);
    // six 16-row left batches: 8 matching rows x 200 = 1600 joined rows each, in pieces of at most
    // 1000; the last 4 rows hold 2 matching rows: 400
    assert.equal(stats.batchesOut, 6 * 2 + 1);
    const rows = result.output as { k: string; i: number; j: number; note: string | null }[];
    assert.deepEqual(rows[0], { k: 'a', i: 0, j: 0, note: null });
    assert.deepEqual(rows[1], { k: 'a', i: 0, j: 1, note: 'n1' });
    assert.equal(rows.filter((r) => r.i === 98).length, 200);
  });

  it('a left join whose right keys are all null gives every right column, null, of its type (columnar probe)', async () => {
    const left = Array.from({ length: 40 }, (_, i) => ({ k: `k${i % 4}`, i }));
    const right = arrowRight([
      { k: null, label: 'x', price: 1.5 },
      { k: null, label: 'y', price: 2 },
    ]);
    const result = await pipeline(arrowLeft(left), join(right, { on: 'k', how: 'left' }), collect());
    const stats = result.stats.stages.find((s: StageStats) => s.name === 'join')!;
    assert.equal(stats.details.input, 'arrow');
    assert.equal(result.output.length, 40);
    // the table held no row (null keys never match): its columns came from the right input
    assert.deepEqual(result.output[5], { k: 'k1', i: 5, label: null, price: null });
  });

  it('a right column holding a lone surrogate keeps it exactly (rows, not a Utf8 column that cannot)', async () => {
    const left = Array.from({ length: 40 }, (_, i) => ({ k: i % 4, i }));
    const right = [
      { k: 0, t: 'ok' },
      { k: 1, t: 'bad \ud800 half' },
    ];
    const result = await pipeline(arrowLeft(left), join(right, { on: 'k' }), collect());
    const rows = result.output as { k: number; t: string }[];
    assert.equal(rows.length, 20);
    assert.equal(rows.find((r) => r.k === 1)?.t, 'bad \ud800 half');
  });

  it('takes a source stage, a Spilled, an async iterable and Arrow batches as the right input', async () => {
    const left = Array.from({ length: 100 }, (_, i) => ({ sym: `s${i % 10}`, i }));
    const symbols = Array.from({ length: 5 }, (_, i) => ({ symbol: `s${i}`, name: `Name ${i}` }));
    const spilled = (await pipeline(fromIterable(symbols), toSpill({ budget: 0 }))).output as Spilled;
    try {
      async function* gen() {
        yield* symbols;
      }
      const rights = [fromIterable(symbols), spilled, gen(), [rowsToRecordBatch(symbols)]];
      for (const right of rights) {
        const result = await pipeline(
          fromIterable(left),
          join(right as never, { on: { left: 'sym', right: 'symbol' } }),
          collect(),
        );
        assert.equal(result.output.length, 50);
        for (const row of result.output as { sym: string; symbol: string; name: string }[])
          assert.equal(row.symbol, row.sym);
      }
    } finally {
      await spilled.dispose();
    }
  });

  it('names colliding columns deterministically: shared keys once, others <name>_right', async () => {
    const left = [{ k: 1, v: 'l', v_right: 'taken' }];
    const right = [
      { k: 1, v: 'r' },
      { k: 2, v: 'only right' },
    ];
    const result = await pipeline(fromIterable(left), join(right, { on: 'k', how: 'full' }), collect());
    const rows = result.output as Record<string, unknown>[];
    assert.deepEqual(rows[0], { k: 1, v: 'l', v_right: 'taken', v_right2: 'r' });
    assert.deepEqual(rows[1], { k: 2, v: null, v_right: null, v_right2: 'only right' });
  });

  it('copies every left column, a column named __proto__ too, on repeated and unmatched keys', async () => {
    const odd = JSON.parse('{"__proto__": "p", "k": 1}') as Record<string, unknown>;
    const left = [odd, odd, { k: 3, x: 'x' }];
    const right = [{ k: 1, r: 'one' }];
    const result = await pipeline(fromIterable(left), join(right, { on: 'k', how: 'left' }), collect());
    const rows = result.output as Record<string, unknown>[];
    assert.equal(rows.length, 3);
    for (const row of rows.slice(0, 2)) {
      assert.equal(Object.getPrototypeOf(row), Object.prototype);
      assert.deepEqual(Object.entries(row), [
        ['__proto__', 'p'],
        ['k', 1],
        ['r', 'one'],
      ]);
    }
    assert.deepEqual(rows[2], { k: 3, x: 'x', r: null });
  });

  it('key type mismatches are a coded error naming both columns', async () => {
    const left = [{ id: 1, sym: 'a' }];
    await assert.rejects(
      pipeline(fromIterable(left), join([{ code: 1 }], { on: { left: 'sym', right: 'code' } }), collect()),
      (error: { code: string; left: { column: string }; right: { column: string }; message: string }) => {
        assert.equal(error.code, 'ERR_SPILLWAY_JOIN_KEY_MISMATCH');
        assert.equal(error.left.column, 'sym');
        assert.equal(error.right.column, 'code');
        assert.match(error.message, /"sym".*"code"/);
        return true;
      },
    );
    // Int32 vs Float64 in Arrow input
    const ints = rowsToRecordBatch([{ k: 1 }, { k: 2 }]);
    const floats = rowsToRecordBatch([{ k: 1.5 }, { k: 2 }]);
    const source = new BatchSource({
      name: 'ints',
      async *open() {
        yield Batch.fromArrow(ints, { source: 'ints', index: 0, rowStart: 0 });
      },
    });
    await assert.rejects(pipeline(source, join([floats], { on: 'k' }), collect()), {
      code: 'ERR_SPILLWAY_JOIN_KEY_MISMATCH',
    });
    // a Float64 key holding only integers meets an Int32 one, read in a sliced batch too (the
    // fractions before the slice are not its values)
    const sliced = rowsToRecordBatch([{ k: 0.5 }, { k: 1.5 }, { k: 2 }, { k: 4 }, { k: null }]).slice(2);
    const slicedSource = new BatchSource({
      name: 'sliced',
      async *open() {
        yield Batch.fromArrow(sliced, { source: 'sliced', index: 0, rowStart: 0 });
      },
    });
    const met = await pipeline(slicedSource, join([ints], { on: 'k' }), collect());
    assert.deepEqual(met.output, [{ k: 2 }]);
  });

  it('decimal keys of two scales are a coded error (1.00 never met 1.000: keys are exact text); one scale joins', async () => {
    const decimals = (scale: number, rows: Record<string, unknown>[]): RecordBatch =>
      rowsToRecordBatch(rows, { schema: new Schema([new Field('k', new Decimal(scale, 10, 128), true)]) });
    const source = (batch: RecordBatch): BatchSource =>
      new BatchSource({
        name: 'decimals',
        async *open() {
          yield Batch.fromArrow(batch, { source: 'decimals', index: 0, rowStart: 0 });
        },
      });
    const left = decimals(2, [{ k: '1.00' }, { k: '2.50' }, { k: null }]);
    await assert.rejects(
      pipeline(source(left), join([decimals(3, [{ k: '1.000' }])], { on: 'k' }), collect()),
      (error: { code: string; message: string }) => {
        assert.equal(error.code, 'ERR_SPILLWAY_JOIN_KEY_MISMATCH');
        assert.match(error.message, /decimal of scale 2.*of scale 3/);
        return true;
      },
    );
    await assert.rejects(pipeline(source(left), join([rowsToRecordBatch([{ k: 1 }])], { on: 'k' }), collect()), {
      code: 'ERR_SPILLWAY_JOIN_KEY_MISMATCH',
      message: /"k" is Decimal.*"k" is Int32/,
    });
    const met = await pipeline(
      source(left),
      join([decimals(2, [{ k: '2.50' }, { k: '7.25' }])], { on: 'k' }),
      collect(),
    );
    assert.deepEqual(met.output, [{ k: '2.50' }]);
  });

  it('abort mid-join leaves no temporary files', async () => {
    const parent = mkdtempSync(joinPath(tmpdir(), 'join-abort-'));
    try {
      const controller = new AbortController();
      const right = Array.from({ length: 20_000 }, (_, i) => ({ k: i }));
      let n = 0;
      async function* endless() {
        for (;;) {
          yield { k: n++ % 30_000 };
          if (n === 20_000) controller.abort(new Error('stop'));
        }
      }
      await assert.rejects(
        pipeline(
          fromIterable(endless(), { batchSize: 500 }),
          join(right, { on: 'k', budget: 50_000, dir: parent }),
          collect(),
          { signal: controller.signal },
        ),
      );
      assert.deepEqual(readdirSync(parent), []);
    } finally {
      rmSync(parent, { recursive: true, force: true });
    }
  });

  it('validates synchronously', () => {
    assert.throws(() => join([], {} as never), { code: 'ERR_SPILLWAY_INVALID_OPTION' });
    assert.throws(() => join([], { on: 'k', how: 'outer' as never }), { code: 'ERR_SPILLWAY_INVALID_OPTION' });
    assert.throws(() => join([], { on: { left: ['a', 'b'], right: 'a' } }), { code: 'ERR_SPILLWAY_INVALID_OPTION' });
    assert.throws(() => join(42 as never, { on: 'k' }), { code: 'ERR_SPILLWAY_INVALID_OPTION' });
    assert.throws(() => join([], { on: 'k', extra: 1 } as never), { code: 'ERR_SPILLWAY_INVALID_OPTION' });
  });
});
