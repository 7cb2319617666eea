/** distinct against DuckDB on generated awkward tables, spilling and in memory; first row per key; cleanup. */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join as joinPath } from 'node:path';
import fc from 'fast-check';
import type { DuckDBConnection } from '@duckdb/node-api';
import { pipeline, fromIterable, collect, distinct, type StageStats } from 'spillway';
import { Batch, BatchSource } from 'spillway/extend';
import { rowsToRecordBatch } from 'spillway/arrow';
import { duck, loadTable, query, multiset, tableArbitrary, type TRow } from './operators-helpers.ts';

let db: { conn: DuckDBConnection; close: () => void };
before(async () => {
  db = await duck();
});
after(() => db.close());

const COLUMNS = ['k', 'g', 'x', 'q'];

async function run(rows: object[], keys: string[] | undefined, budget: number | undefined) {
  const result = await pipeline(
    fromIterable(rows, { batchSize: 16 }),
    distinct(keys, budget === undefined ? {} : { budget }),
    collect(),
  );
  return {
    rows: result.output as Record<string, unknown>[],
    stats: result.stats.stages.find((s: StageStats) => s.name === 'distinct')!,
  };
}

/** A source of `rows` as Arrow batches of `per` rows. */
function arrowSource(rows: object[], per: number): BatchSource {
  return new BatchSource({
    name: 'arrow',
    async *open() {
      for (let i = 0; i < rows.length; i += per)
        yield Batch.fromArrow(rowsToRecordBatch(rows.slice(i, i + per)), {
          source: 'arrow',
          index: i / per,
          rowStart: i,
        });
    },
  });
}

describe('distinct', () => {
  it('whole rows match DuckDB SELECT DISTINCT (spilling and in memory)', async () => {
    await fc.assert(
      fc.asyncProperty(tableArbitrary(), async (table) => {
        const rows = table.map(({ id: _id, ...rest }) => rest);
        await loadTable(db.conn, 't', table);
        const expected = multiset(await query(db.conn, `SELECT DISTINCT ${COLUMNS.join(', ')} FROM t`), COLUMNS);
        assert.deepEqual(multiset((await run(rows, undefined, undefined)).rows, COLUMNS), expected);
        const spilled = await run(rows, undefined, 500);
        assert.deepEqual(multiset(spilled.rows, COLUMNS), expected);
        if (expected.length >= 8) assert.ok((spilled.stats.details.partitionsSpilled as number) > 0, 'spilled');
      }),
      { numRuns: 15 },
    );
  });

  it('by keys: DuckDB DISTINCT on the keys, and the first row of each key (spilling)', async () => {
    await fc.assert(
      fc.asyncProperty(tableArbitrary(), async (table: TRow[]) => {
        await loadTable(db.conn, 't', table);
        const keys = ['k', 'x'];
        const expected = multiset(await query(db.conn, 'SELECT DISTINCT k, x FROM t'), keys);
        const spilled = await run(table, keys, 500);
        assert.deepEqual(multiset(spilled.rows, keys), expected);
        // the first row (smallest id) of each key
        const firsts = multiset(await query(db.conn, 'SELECT min(id) AS id FROM t GROUP BY k, x'), ['id']);
        assert.deepEqual(multiset(spilled.rows, ['id']), firsts);
      }),
      { numRuns: 15 },
    );
  });

  it('by keys over Arrow batches that do not repeat: rows skip the table, and each key keeps its first row (-0 before 0), also when a batch cannot skip', async () => {
    type R = { id: number; k: string; f?: number };
    const rows: R[] = Array.from({ length: 6000 }, (_, i) => {
      const j = i % 5000;
      // key (k7, -0) first, (k7, 0) later: one key, whose first row holds -0
      return { id: i, k: `k${j}`, f: j === 7 ? (i < 5000 ? -0 : 0) : j / 4 };
    });
    /** The first row of each key (k, f), f missing read as null and -0 as 0, in input order. */
    const firsts = (input: R[]) => {
      const seen = new Map<string, R>();
      for (const r of input) {
        const key = `${r.k}|${r.f === undefined ? 'null' : r.f === 0 ? 0 : r.f}`;
        if (!seen.has(key)) seen.set(key, r);
      }
      return [...seen.values()];
    };
    // the second run: batch 4 lacks the key column f, so that from it on no row skips the table
    for (const lacking of [-1, 4]) {
      const input = rows.map((r, i) => (Math.floor(i / 500) === lacking ? { id: r.id, k: r.k } : r));
      const result = await pipeline(arrowSource(input, 500), distinct(['k', 'f'], { budget: 20_000 }), collect());
      const stats = result.stats.stages.find((s: StageStats) => s.name === 'distinct')!;
      const out = (result.output as R[]).map((r) => ({ ...r })).sort((a, b) => a.id - b.id);
      const want = firsts(input).map((r) => ({ f: null, ...r }));
      assert.deepEqual(
        out.map((r) => r.id),
        want.map((r) => r.id),
        `first rows (batch lacking f: ${lacking})`,
      );
      assert.ok(Object.is(out.find((r) => r.id === 7)!.f, -0), 'the first row of (k7, 0) holds -0');
      assert.ok((stats.details.passedRows as number) > 0, `rows skipped the table (batch lacking f: ${lacking})`);
      assert.ok((stats.details.partitionsSpilled as number) > 0, 'spilled');
      if (lacking >= 0)
        assert.ok((stats.details.passedRows as number) < 2000, 'no row skipped from the batch lacking f on');
    }
  });

  it('by keys, from a source that knows its size: rows skip the table early only when the input to come would take it past its budget', async () => {
    for (const [n, early] of [
      [150_000, false],
      [600_000, true],
    ] as const) {
      const rows = Array.from({ length: n }, (_, i) => ({ id: i, k: `k${i}` }));
      let emitted = 0;
      const source = new BatchSource({
        name: 'sized',
        progress: () => ({ rows: emitted, bytes: 0, totalRows: n }),
        async *open() {
          for (let i = 0; i < n; i += 10_000) {
            emitted = Math.min(n, i + 10_000);
            yield Batch.fromArrow(rowsToRecordBatch(rows.slice(i, i + 10_000)), {
              source: 'sized',
              index: i,
              rowStart: i,
            });
          }
        },
      });
      // 100k rows fill about 16 MB of table: 150k rows fit 40 MB, 600k would not
      const result = await pipeline(source, distinct(['k'], { budget: 40e6 }), collect());
      const details = result.stats.stages.find((s: StageStats) => s.name === 'distinct')!.details;
      assert.equal((result.output as unknown[]).length, n);
      if (early) {
        assert.ok((details.passedRows as number) >= n - 200_000, `${n} rows: most skipped the table`);
        assert.ok((details.tableBytesAtSpill as number) < 40e6 / 2, `${n} rows: written out at the probe`);
      } else assert.deepEqual([details.passedRows, details.partitionsSpilled], [0, 0], `${n} rows: in memory`);
    }
  });

  it('whole rows of other shapes: the same columns in another order are equal, a missing column is null, other columns are not', async () => {
    const rows = [
      { a: 1, b: 2 },
      { b: 2, a: 1 },
      { a: 1 },
      { a: 1, b: 2, c: 3 },
      { c: 3, a: 1, b: 2 },
      { a: 1, b: null },
      { a: 1 },
      { a: 2, b: 2 },
    ];
    for (const budget of [undefined, 1]) {
      const { rows: out, stats } = await run(rows, undefined, budget);
      assert.deepEqual(
        out.map((r) => JSON.stringify(r)).sort(),
        // `{ a: 1, b: null }` is `{ a: 1 }` (a missing column is null, as SQL reads sparse JSON): the first is kept
        ['{"a":1,"b":2}', '{"a":1}', '{"a":1,"b":2,"c":3}', '{"a":2,"b":2}'].sort(),
      );
      if (budget !== undefined) assert.ok((stats.details.partitionsSpilled as number) > 0, 'spilled');
    }
  });

  it('whole rows of Arrow batches match the same rows as objects, spilling', async () => {
    const rows = Array.from({ length: 3000 }, (_, i) => ({ s: `k${i % 700}`, n: i % 3, f: i % 2 === 0 ? 0.5 : null }));
    const source = arrowSource(rows, 500);
    const result = await pipeline(source, distinct(undefined, { budget: 2000 }), collect());
    const stats = result.stats.stages.find((s: StageStats) => s.name === 'distinct')!;
    const columns = ['s', 'n', 'f'];
    const expected = multiset((await run(rows, undefined, undefined)).rows, columns);
    assert.equal(expected.length, 2100);
    assert.deepEqual(multiset(result.output as object[], columns), expected);
    assert.ok((stats.details.partitionsSpilled as number) > 0, 'spilled');
  });

  it('removes its spill files, also on failure', async () => {
    const parent = mkdtempSync(joinPath(tmpdir(), 'distinct-'));
    try {
      const rows = Array.from({ length: 4000 }, (_, i) => ({ v: i % 3000 }));
      const ok = await pipeline(
        fromIterable(rows, { batchSize: 200 }),
        distinct(undefined, { budget: 20_000, dir: parent }),
        collect(),
      );
      assert.equal(ok.output.length, 3000);
      assert.ok((ok.stats.stages[1]!.details.partitionsSpilled as number) > 0);
      assert.deepEqual(readdirSync(parent), []);
      let n = 0;
      const failing = (row: object): object => {
        if (++n === 1000) throw new Error('boom');
        return row;
      };
      const { map } = await import('spillway');
      await assert.rejects(
        pipeline(
          fromIterable(rows, { batchSize: 200 }),
          distinct(undefined, { budget: 20_000, dir: parent }),
          map(failing),
          collect(),
        ),
      );
      assert.deepEqual(readdirSync(parent), []);
    } finally {
      rmSync(parent, { recursive: true, force: true });
    }
  });

  it('validates synchronously', () => {
    assert.throws(() => distinct([]), { code: 'ERR_SPILLWAY_INVALID_OPTION' });
    assert.throws(() => distinct(['a', 'a']), { code: 'ERR_SPILLWAY_INVALID_OPTION' });
    assert.throws(() => distinct('a', { nope: 1 } as never), { code: 'ERR_SPILLWAY_INVALID_OPTION' });
  });
});
