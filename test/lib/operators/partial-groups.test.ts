/**
 * Two-phase groupBy: partialGroups on parallel() worker threads, mergeGroups on the main thread,
 * gives what one groupBy over the same rows gives (every built-in aggregate and a user-defined
 * one; null, NaN, -0 and unicode keys; a sum past 2^53; first/last in input order), in memory and
 * with a budget that makes the merge spill; and errors that name what is wrong.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { rmSync } from 'node:fs';
import { DuckDBInstance } from '@duckdb/node-api';
import {
  pipeline,
  fromIterable,
  fromParquet,
  collect,
  groupBy,
  mergeGroups,
  parallel,
  partialGroups,
  agg,
} from 'spillway';
import { aggregates } from '../../fixtures/parallel/partial-totals.ts';
import { runnableUrl, tempDir } from '../../helpers.ts';

const MODULE = runnableUrl('test/fixtures/parallel/partial-totals.ts');
const SYMBOLS = ['AAPL', 'MSFT', 'Ünïcødé', '', null, 'NaN-free', 'ZZZ'];

/** 12,000 trades over 7 symbols (one holds most rows), with nulls, a bigint sum past 2^53 and notes. */
function trades(): Record<string, unknown>[] {
  return Array.from({ length: 12_000 }, (_, i) => ({
    id: i,
    symbol: i % 3 === 0 ? 'AAPL' : SYMBOLS[i % SYMBOLS.length],
    price: i % 11 === 0 ? null : ((i * 7919) % 1000) / 10 - 20,
    qty: (i % 13) - 4,
    big: 2 ** 52 + i,
    venue: `v${i % 5}`,
    note: i % 17 === 0 ? null : 'x'.repeat(i % 40),
  }));
}

/**
 * Rows by symbol, values made comparable: bigints as text, and the mean to 12 significant digits
 * (merged partial sums add the same doubles in another order, as a spilled groupBy's do).
 */
function bySymbol(rows: readonly Record<string, unknown>[]): Map<unknown, string> {
  const replacer = (key: string, v: unknown) =>
    typeof v === 'bigint' ? `${v}n` : key === 'avg' && typeof v === 'number' ? v.toPrecision(12) : v;
  return new Map(rows.map((row) => [row.symbol, JSON.stringify(row, replacer)]));
}

describe('partialGroups on workers + mergeGroups', () => {
  for (const budget of [undefined, '4kB'] as const) {
    it(`gives what one groupBy gives (${budget ? `merge spilling at ${budget}` : 'in memory'})`, async () => {
      const expected = await pipeline(
        fromIterable(trades(), { batchSize: 500 }),
        groupBy('symbol', aggregates),
        collect(),
      );
      const { output, stats } = await pipeline(
        fromIterable(trades(), { batchSize: 500 }),
        parallel(MODULE, { kind: 'batch', workers: 2 }),
        mergeGroups('symbol', aggregates, budget ? { budget } : undefined),
        collect(),
      );
      assert.equal(output.length, SYMBOLS.length);
      assert.deepEqual(
        bySymbol(output as Record<string, unknown>[]),
        bySymbol(expected.output as Record<string, unknown>[]),
      );
      const aapl = (output as Record<string, unknown>[]).find((row) => row.symbol === 'AAPL')!;
      assert.equal(typeof aapl.big, 'bigint', 'a sum past 2^53 stays exact');
      assert.equal(aapl.first, 0);
      assert.deepEqual(aapl.sample, [0, 3, 6]);
      // the workers did the adding: 24 batches of 500 rows in, a row per symbol per batch out
      const workers = stats.stages.find((s) => s.name === 'parallel')!;
      assert.equal(workers.rowsIn, 12_000);
      assert.ok(workers.rowsOut <= 24 * SYMBOLS.length);
      const merge = stats.stages.find((s) => s.name === 'groupBy')!;
      if (budget) assert.ok((merge.details.partitionsSpilled as number) > 0, 'the merge spilled');
    });
  }

  it('groups a batch by SQL key equality, in the order groups first appear', () => {
    const partial = partialGroups(['k'], { n: agg.count(), s: agg.sum('v') });
    const out = partial([
      { k: 'b', v: 1 },
      { k: null, v: 2 },
      { k: Number.NaN, v: 3 },
      { k: -0, v: 4 },
      { v: 5 },
      { k: 0, v: 6 },
      { k: Number.NaN, v: 7 },
      { k: 'b', v: 8 },
    ]);
    assert.deepEqual(
      (out as Record<string, unknown>[]).map((row) => [row.k, row.n]),
      [
        ['b', 2],
        [null, 2],
        [Number.NaN, 2],
        [-0, 2],
      ],
    );
  });

  it('merges a group whose min and max column is all null in a batch (it failed: "no partial state")', async () => {
    const aggs = { n: agg.count(), lo: agg.min('v'), hi: agg.max('v'), f: agg.first('v') };
    const rows = [
      { k: 'a', v: 1 },
      { k: 'b', v: null },
      { k: 'a', v: 3 },
      { k: 'b', v: 7 },
      { k: 'c', v: null },
    ];
    // two batches, as two workers give them: `b` is all null in the first
    const partial = [
      ...(partialGroups('k', aggs) as (rows: object[]) => object[])(rows.slice(0, 3)),
      ...(partialGroups('k', aggs) as (rows: object[]) => object[])(rows.slice(3)),
    ];
    const merged = await pipeline(fromIterable(partial), mergeGroups('k', aggs), collect());
    const direct = await pipeline(fromIterable(rows), groupBy('k', aggs), collect());
    assert.deepEqual(merged.output, direct.output);
    assert.deepEqual(
      merged.output.map((r) => [(r as { k: string }).k, (r as { lo: unknown }).lo, (r as { hi: unknown }).hi]),
      [
        ['a', 1, 3],
        ['b', 7, 7],
        ['c', null, null],
      ],
    );
  });

  it('refuses rows without partial states, and options that are no aggregates', async () => {
    await assert.rejects(
      pipeline(fromIterable([{ symbol: 'A', qty: 1 }]), mergeGroups('symbol', { volume: agg.sum('qty') }), collect()),
      (error: Error & { code?: string }) =>
        error.code === 'ERR_SPILLWAY_SCHEMA_MISMATCH' && /no partial state in column `volume`/.test(error.message),
    );
    assert.throws(() => partialGroups('k', { n: 3 as never }), /aggregates\.n/);
    assert.throws(() => partialGroups('k', { k: agg.count() }), /name of a key column/);
    assert.throws(() => mergeGroups('k', [] as never), /object of output column -> aggregate/);
    assert.throws(() => (partialGroups('k', { n: agg.count() }) as (rows: unknown) => unknown)({}), /kind: 'batch'/);
  });

  it('refuses the max of a DECIMAL column (its text would be compared as text), naming the column', async () => {
    const dir = tempDir();
    const file = join(dir, 'prices.parquet');
    const db = await DuckDBInstance.create(':memory:', { threads: '1' });
    const con = await db.connect();
    try {
      // 9.50 sorts above 24.00 as text: groupBy's max is 24.00
      await con.run(
        `COPY (SELECT 'x' AS g, v::DECIMAL(8,2) AS price FROM (VALUES (9.5), (24.0), (-3.25), (-10.0)) t(v)) TO '${file}' (FORMAT parquet)`,
      );
      const one = await pipeline(fromParquet(file), groupBy('g', { hi: agg.max('price') }), collect());
      assert.equal((one.output[0] as { hi: string }).hi, '24.00');
      await assert.rejects(
        pipeline(
          fromParquet(file),
          parallel(runnableUrl('test/fixtures/parallel/partial-decimal.ts'), { kind: 'batch', workers: 1, retries: 0 }),
          mergeGroups('g', { total: agg.sum('price'), hi: agg.max('price') }),
          collect(),
        ),
        (error: Error & { code?: string }) => {
          assert.equal(error.code, 'ERR_SPILLWAY_WORKER');
          assert.match(error.message, /cannot take the max of DECIMAL column "price"/);
          return true;
        },
      );
    } finally {
      con.closeSync();
      db.closeSync();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
