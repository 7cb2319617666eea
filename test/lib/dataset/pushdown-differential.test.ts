/**
 * Pushdown never changes the answer: on a DuckDB-written file with small row groups and the hard
 * cases (nulls, NaN, strings longer than statistics keep, decimals, timestamps, dates, bigints),
 * `fromParquet(file, { where })` gives exactly the rows of a full read filtered by the same
 * predicate, for random predicates (fast-check), while skipping row groups for some of them.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import fc from 'fast-check';
import { DuckDBInstance } from '@duckdb/node-api';
import { pipeline, collect, fromParquet } from '../../../index.ts';
import { TRUE, compilePredicate, type Predicate, type PredicateValue } from '../../../lib/dataset/predicate.ts';
import { tempDir } from '../../helpers.ts';
import { predicateArbitrary } from './predicate-arbitrary.ts';

const dir = tempDir('spillway-pushdown-diff-');
const file = join(dir, 'hard.parquet');
let all: Array<Record<string, unknown>> = [];

before(async () => {
  const db = await DuckDBInstance.create(':memory:', { threads: '1' });
  const con = await db.connect();
  await con.run(`COPY (
    SELECT i AS id,
           CASE WHEN i % 11 = 0 THEN NULL WHEN i % 13 = 0 THEN 'NaN'::DOUBLE ELSE (i % 500) / 4.0 END AS f,
           CASE WHEN i % 17 = 0 THEN NULL ELSE repeat('x', 70) || lpad((i // 100)::VARCHAR, 5, '0') END AS long_s,
           ((i // 3)::DECIMAL(12, 2) / 7)::DECIMAL(12, 4) AS dec,
           TIMESTAMP '2026-01-01' + INTERVAL (i * 37) SECOND AS ts,
           DATE '2026-01-01' + (i // 250)::INTEGER AS d,
           (i::BIGINT * 1000000000000) AS big
    FROM range(6000) t(i))
    TO '${file}' (FORMAT parquet, ROW_GROUP_SIZE 2048)`);
  con.closeSync();
  db.closeSync();
  all = (await pipeline(fromParquet(file), collect())).output as Array<Record<string, unknown>>;
});
after(() => undefined);

function pick(col: string, i: number): PredicateValue {
  const v = all[i % all.length]![col];
  return (v ?? null) as PredicateValue;
}

const COLS = ['id', 'f', 'long_s', 'dec', 'ts', 'd', 'big'] as const;
const predicate = predicateArbitrary(COLS, pick, [
  { col: 'f', op: '>', value: Number.NaN },
  { col: 'long_s', op: '>', value: `${'x'.repeat(70)}00030` },
  { col: 'ts', op: '<', value: '2026-01-01T10:00:00Z' },
]);

test('pushdown gives the rows of a full read filtered by the same predicate (fast-check)', async () => {
  assert.equal(all.length, 6000);
  let skippedSome = 0;
  await fc.assert(
    fc.asyncProperty(predicate, async (where) => {
      const test = compilePredicate(where);
      const want = all.filter((row) => test((c) => row[c]) === TRUE).map((r) => r.id);
      const result = await pipeline(fromParquet(file, { where }), collect());
      const got = (result.output as Array<Record<string, unknown>>).map((r) => r.id);
      if ((result.stats.stages[0]!.details.rowGroupsSkipped as number) > 0) skippedSome++;
      assert.deepEqual(
        got,
        want,
        JSON.stringify(where, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v)),
      );
    }),
    { numRuns: 60 },
  );
  assert.ok(skippedSome > 0, 'some predicates should skip row groups');
});

test('targeted: each column type prunes where its statistics allow', async () => {
  const skipped = async (where: Predicate): Promise<number> => {
    const r = await pipeline(fromParquet(file, { where }), collect());
    return r.stats.stages[0]!.details.rowGroupsSkipped as number;
  };
  assert.equal(await skipped({ col: 'id', op: '<', value: 100 }), 2);
  assert.equal(await skipped({ col: 'ts', op: '<', value: '2026-01-01T10:00:00Z' }), 2);
  assert.equal(await skipped({ col: 'd', op: '>=', value: '2026-01-24' }), 2);
  assert.equal(await skipped({ col: 'big', op: '>', value: 5000n * 1000000000000n }), 2);
  // decimals are never pruned (their statistics are not read exactly)
  assert.equal(await skipped({ col: 'dec', op: '<', value: 0 }), 0);
});
