/**
 * A groupBy's keys keep their input types when an aggregate's values alone give its column no
 * type (group-output-types.ts): a sum of BIGINT past 2^53 (bigints beside numbers) and aggregates
 * of a column all null made the output rows, and the keys came out as rows type them (TINYINT,
 * SMALLINT, INTEGER a DOUBLE, DATE a TIMESTAMP WITH TIME ZONE, DECIMAL and TIME text), a min or
 * first of an all-null INTEGER column text. Keys and type-keeping aggregates are compared with
 * DuckDB's same query; a sum is a double as when its values are numbers (DuckDB: HUGEINT), or a
 * BIGINT once it passes 2^53 (as toParquet writes those values as rows).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { pipeline, fromParquet, toParquet, groupBy, agg } from '../../../index.ts';
import { tempDir } from '../../helpers.ts';
import { duckRun, sqlString, duckDescribe, duckDifferences } from '../formats/parquet/duckdb.ts';

const dir = tempDir();
const src = join(dir, 'keys.parquet');
const KEYS = ['k8', 'k16', 'k32', 'f32', 'd', 'ts', 'dec', 'tm'];

const ready = duckRun(
  `COPY (SELECT (i % 3)::TINYINT AS k8, (i % 4)::SMALLINT AS k16, (i % 5)::INTEGER AS k32, (i % 2)::FLOAT AS f32,
     DATE '2024-01-01' + (i % 3)::INTEGER AS d, TIMESTAMP '2024-01-01 00:00:00' + INTERVAL (i % 3) HOUR AS ts,
     ((i % 7) * 1.25)::DECIMAL(9, 2) AS dec, TIME '01:02:03' + INTERVAL (i % 3) SECOND AS tm,
     (4503599627370496 + i)::BIGINT AS big, NULL::INTEGER AS nothing
   FROM range(0, 3000) r(i)) TO ${sqlString(src)} (FORMAT parquet)`,
);

const describe = duckDescribe;
const differences = duckDifferences;

function pick(types: Record<string, string>, names: readonly string[]): Record<string, string> {
  return Object.fromEntries(names.map((n) => [n, types[n]!]));
}

for (const budget of [undefined, '64KB']) {
  const how = budget ? `spilled (budget ${budget})` : 'in memory';
  for (const key of KEYS) {
    test(`a ${key} key keeps its type beside a BIGINT sum past 2^53, ${how}`, async () => {
      await ready;
      const out = join(dir, `sum-${key}-${budget ?? 'all'}.parquet`);
      await pipeline(fromParquet(src), groupBy(key, { s: agg.sum('big') }, budget ? { budget } : {}), toParquet(out));
      const expected = `SELECT ${key}, sum(big)::BIGINT AS s FROM ${sqlString(src)} GROUP BY ALL`;
      assert.deepEqual(await describe(`SELECT * FROM ${sqlString(out)}`), await describe(expected));
      assert.deepEqual(await differences(`SELECT * FROM ${sqlString(out)}`, expected), [0, 0]);
    });
  }

  test(`aggregates of an all-null INTEGER column keep the key's type and the column's, ${how}`, async () => {
    await ready;
    const out = join(dir, `nothing-${budget ?? 'all'}.parquet`);
    const aggregates = {
      mn: agg.min('nothing'),
      f: agg.first('nothing'),
      s: agg.sum('nothing'),
      m: agg.mean('nothing'),
      c: agg.count('nothing'),
    };
    await pipeline(fromParquet(src), groupBy('k8', aggregates, budget ? { budget } : {}), toParquet(out));
    const expected = `SELECT k8, min(nothing) AS mn, first(nothing) AS f, sum(nothing)::DOUBLE AS s, avg(nothing) AS m, count(nothing)::DOUBLE AS c FROM ${sqlString(src)} GROUP BY k8`;
    const got = await describe(`SELECT * FROM ${sqlString(out)}`);
    assert.deepEqual(got, await describe(expected));
    assert.deepEqual(pick(got, ['k8', 'mn', 'f']), { k8: 'TINYINT', mn: 'INTEGER', f: 'INTEGER' });
    assert.deepEqual(await differences(`SELECT * FROM ${sqlString(out)}`, expected), [0, 0]);
  });
}

test('a sum that passes 2^53 in a later output batch only is still refused by toParquet, with a coded error', async () => {
  // the first batches' sums are numbers (DOUBLE), a later one holds a bigint: as before, toParquet
  // cannot widen a DOUBLE column to BIGINT exactly and says so (declare the column's schema)
  await ready;
  const many = join(dir, 'many.parquet');
  await duckRun(
    `COPY (SELECT i::INTEGER AS g, CASE WHEN i = 70000 THEN 9007199254740000 ELSE i END::BIGINT AS x FROM range(0, 100000) r(i)
       UNION ALL SELECT 70000, 5000) TO ${sqlString(many)} (FORMAT parquet)`,
  );
  const out = join(dir, 'many-out.parquet');
  await assert.rejects(
    pipeline(fromParquet(many), groupBy('g', { s: agg.sum('x') }), toParquet(out)),
    (error: Error & { code?: string }) => /^ERR_SPILLWAY_/.test(String(error.code)) && /`s`/.test(error.message),
  );
  const typed = join(dir, 'many-typed.parquet');
  await pipeline(
    fromParquet(many),
    groupBy('g', { s: agg.sum('x') }),
    toParquet(typed, { schema: { g: 'int32', s: 'int64' } }),
  );
  const expected = `SELECT g, sum(x)::BIGINT AS s FROM ${sqlString(many)} GROUP BY g`;
  assert.deepEqual(await describe(`SELECT * FROM ${sqlString(typed)}`), { g: 'INTEGER', s: 'BIGINT' });
  assert.deepEqual(await differences(`SELECT * FROM ${sqlString(typed)}`, expected), [0, 0]);
});

test('sum and mean of a DOUBLE column are doubles, as DuckDB sums them, also for integral values past 2^53, in memory and spilled', async () => {
  // 1e16 + 1 made a bigint sum, which a sort then refused ("mixes bigint and float values") and
  // toParquet too; 1e308 + 1e308 was a 309-digit bigint where DuckDB's sum is inf
  await ready;
  const doubles = join(dir, 'doubles.parquet');
  await duckRun(
    `COPY (SELECT k, x FROM (VALUES ('a', 1e16::DOUBLE), ('a', 1::DOUBLE), ('c', 2.5::DOUBLE), ('d', 1e308::DOUBLE), ('d', 1e308::DOUBLE)) t(k, x)
       UNION ALL SELECT 'e' || (i % 500), (i * 4096)::DOUBLE FROM range(20000) r(i)) TO ${sqlString(doubles)} (FORMAT parquet)`,
  );
  for (const budget of [undefined, 16_384]) {
    const out = join(dir, `doubles-${budget ?? 'all'}.parquet`);
    const { sort } = await import('../../../index.ts');
    await pipeline(
      fromParquet(doubles),
      groupBy('k', { s: agg.sum('x'), m: agg.mean('x') }, budget ? { budget } : {}),
      sort('k'),
      toParquet(out),
    );
    const expected = `SELECT k, sum(x) AS s, avg(x) AS m FROM ${sqlString(doubles)} GROUP BY k`;
    assert.deepEqual(await describe(`SELECT * FROM ${sqlString(out)}`), await describe(expected));
    assert.deepEqual(
      await differences(`SELECT k, s::VARCHAR, m FROM ${sqlString(out)}`, `SELECT k, s::VARCHAR, m FROM (${expected})`),
      [0, 0],
    );
  }
});
