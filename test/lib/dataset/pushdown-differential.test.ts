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
           (i::BIGINT * 1000000000000) AS big,
           (5 + (i * 7919) % 95)::VARCHAR AS num_s,
           (9007199254740990 + i % 7)::DECIMAL(20, 0) AS huge_dec
    FROM range(6000) t(i))
    TO '${file}' (FORMAT parquet, ROW_GROUP_SIZE 2048)`);
  con.closeSync();
  db.closeSync();
  all = (await pipeline(fromParquet(file), collect())).output as Array<Record<string, unknown>>;
});
after(() => undefined);

function pick(col: string, i: number): PredicateValue {
  const v = all[i % all.length]![col];
  // text holding numbers also compares with numbers (by value, row by row; never by its
  // statistics, which are in text order), and a DECIMAL(20,0) with bigints past 2^53
  if (col === 'num_s' && i % 2 === 1 && typeof v === 'string') return Number(v);
  if (col === 'huge_dec' && i % 2 === 1 && typeof v === 'string') return BigInt(v);
  return (v ?? null) as PredicateValue;
}

const COLS = ['id', 'f', 'long_s', 'dec', 'ts', 'd', 'big', 'num_s', 'huge_dec'] as const;
const predicate = predicateArbitrary(COLS, pick, [
  { col: 'f', op: '>', value: Number.NaN },
  { col: 'long_s', op: '>', value: `${'x'.repeat(70)}00030` },
  { col: 'ts', op: '<', value: '2026-01-01T10:00:00Z' },
  { col: 'num_s', op: '=', value: 5 },
  { col: 'num_s', op: '<', value: 10 },
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

test('text compared with a number is never pruned by its text-ordered statistics; decimals compare with bigints exactly', async () => {
  const ids = async (where: Predicate): Promise<unknown[]> =>
    ((await pipeline(fromParquet(file, { where }), collect())).output as Array<Record<string, unknown>>).map(
      (r) => r.id,
    );
  const byValue = (col: string, keep: (v: unknown) => boolean): unknown[] =>
    all.filter((r) => r[col] !== null && keep(r[col])).map((r) => r.id);
  // num_s holds 5..99: every row group's text bounds are '10'..'99', which as numbers leave out 5
  const five = await ids({ col: 'num_s', op: '=', value: 5 });
  assert.ok(five.length > 0);
  assert.deepEqual(
    five,
    byValue('num_s', (v) => Number(v) === 5),
  );
  assert.deepEqual(
    await ids({ col: 'num_s', op: '<', value: 10 }),
    byValue('num_s', (v) => Number(v) < 10),
  );
  // 9007199254740993 and ...992 are one double: compared through doubles both matched
  assert.deepEqual(
    await ids({ col: 'huge_dec', op: '=', value: 9007199254740992n }),
    byValue('huge_dec', (v) => v === '9007199254740992'),
  );
  assert.deepEqual(
    await ids({ col: 'huge_dec', op: '>', value: 9007199254740992 }),
    byValue('huge_dec', (v) => BigInt(v as string) > 9007199254740992n),
  );
});
