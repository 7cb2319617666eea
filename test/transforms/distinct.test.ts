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

  it('whole rows of other shapes: the same columns in another order are equal, other columns are not', async () => {
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
        ['{"a":1,"b":2}', '{"a":1}', '{"a":1,"b":2,"c":3}', '{"a":1,"b":null}', '{"a":2,"b":2}'].sort(),
      );
      if (budget !== undefined) assert.ok((stats.details.partitionsSpilled as number) > 0, 'spilled');
    }
  });

  it('whole rows of Arrow batches match the same rows as objects, spilling', async () => {
    const rows = Array.from({ length: 3000 }, (_, i) => ({ s: `k${i % 700}`, n: i % 3, f: i % 2 === 0 ? 0.5 : null }));
    const source = new BatchSource({
      name: 'arrow',
      async *open() {
        for (let i = 0; i < rows.length; i += 500)
          yield Batch.fromArrow(rowsToRecordBatch(rows.slice(i, i + 500)), {
            source: 'arrow',
            index: i / 500,
            rowStart: i,
          });
      },
    });
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
