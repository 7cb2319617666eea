/**
 * samples/etl-operators.ts (the worked example of docs/operators.md) on small generated trades,
 * with and without a budget that makes join, groupBy and sort spill, against DuckDB running the
 * same query on the same CSV; and the script run as users run it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { DuckDBInstance } from '@duckdb/node-api';
import { ROOT, tempDir } from '../helpers.ts';
import { writeTradesCsv } from '../../samples/trades-data.ts';
import { SYMBOLS, totalsPerDay } from '../../samples/etl-operators.ts';

test('the ETL sample totals per day and symbol as DuckDB does, sorted, spilling or not', {
  timeout: 180_000,
}, async () => {
  const dir = tempDir();
  const db = await DuckDBInstance.create(':memory:', { threads: '1' });
  const c = await db.connect();
  try {
    const csv = join(dir, 'trades.csv');
    await writeTradesCsv(csv, { rows: 6000, seed: 7 });
    await c.run(`CREATE TABLE symbols (symbol VARCHAR, name VARCHAR)`);
    for (const s of SYMBOLS) await c.run(`INSERT INTO symbols VALUES ('${s.symbol}', '${s.name}')`);
    const expected = (
      await c.runAndReadAll(`SELECT strftime(t.ts, '%Y-%m-%d') AS day, t.symbol, s.name, count(*) AS trades, sum(t.qty) AS volume, avg(t.price) AS avg_price
        FROM read_csv('${csv}') t JOIN symbols s USING (symbol) GROUP BY ALL ORDER BY day, volume DESC, symbol`)
    ).getRowObjectsJS() as {
      day: string;
      symbol: string;
      name: string;
      trades: bigint;
      volume: bigint;
      avg_price: number;
    }[];
    assert.ok(expected.length > 1);
    for (const budget of [undefined, '2kB']) {
      const out = join(dir, `totals-${budget ?? 'mem'}.parquet`);
      const { stats } = await totalsPerDay(csv, out, budget);
      const got = (
        await c.runAndReadAll(`SELECT day, symbol, name, trades, volume, "avgPrice" FROM read_parquet('${out}')`)
      ).getRowObjectsJS() as {
        day: string;
        symbol: string;
        name: string;
        trades: bigint | number;
        volume: bigint | number;
        avgPrice: number;
      }[];
      assert.deepEqual(
        got.map((r) => [r.day, r.symbol, r.name, Number(r.trades), Number(r.volume)]),
        expected.map((r) => [r.day, r.symbol, r.name, Number(r.trades), Number(r.volume)]),
        `budget ${budget ?? 'default'}`,
      );
      for (const [i, r] of got.entries())
        assert.ok(Math.abs(r.avgPrice - expected[i]!.avg_price) < 1e-9 * Math.abs(r.avgPrice));
      if (budget !== undefined) {
        // the symbol table (the join's build side) and the totals are small: the aggregation is what spills
        for (const name of ['groupBy']) {
          const details = stats.stages.find((s) => s.name === name)!.details;
          assert.ok((details.bytesSpilled as number) > 0, `${name} spilled (${JSON.stringify(details)})`);
        }
      }
    }
  } finally {
    c.closeSync();
    db.closeSync();
    rmSync(dir, { recursive: true, force: true });
  }
});

/** Runs the sample as users run it, with a TMPDIR of its own (what it leaves there is litter). */
async function runSample(args: string[], tmp: string): Promise<string> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--conditions=spillway-source', '--import', 'tsx', join(ROOT, 'samples/etl-operators.ts'), ...args],
    { cwd: ROOT, env: { ...process.env, TMPDIR: tmp } },
  );
  return stdout;
}

/** What is in `tmp` but tsx's compile cache (which it keeps in os.tmpdir()). */
function litter(tmp: string): string[] {
  return readdirSync(tmp).filter((name) => !name.startsWith('tsx-'));
}

test('the ETL sample runs as a script: prints the totals it removes, leaves nothing behind', {
  timeout: 180_000,
}, async () => {
  const tmp = tempDir();
  const stdout = await runSample(['--rows', '3000', '--budget', '4kB'], tmp);
  assert.match(stdout, /^3,000 trades -> \d+ rows \(day, symbol\) in a temporary file, removed at exit/);
  // no path is printed that is gone once the script ends: the first rows are shown instead
  assert.doesNotMatch(stdout, /totals\.parquet/);
  assert.match(stdout, /\n {2}2026-\d\d-\d\d [A-Z]+ +\d+ trades, volume \d+\n/);
  assert.match(stdout, /groupBy: \d+ rows in, \d+ out, [1-9]\d* bytes spilled/);
  assert.deepEqual(litter(tmp), []);
});

test('the ETL sample with --out keeps the totals there and says so', { timeout: 180_000 }, async () => {
  const tmp = tempDir();
  const out = join(tempDir(), 'totals.parquet');
  const stdout = await runSample(['--rows', '2000', '--out', out], tmp);
  assert.match(stdout, /^2,000 trades -> \d+ rows \(day, symbol\) in (.+)$/m);
  assert.equal(/ in (.+)$/m.exec(stdout)?.[1], out);
  assert.ok(existsSync(out), 'the output named is there');
  assert.deepEqual(litter(tmp), [], 'the generated trades and their folder are removed');
});
