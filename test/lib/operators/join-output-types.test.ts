/**
 * A join's output columns keep their inputs' types, compared with DuckDB's same query: a right
 * TINYINT, SMALLINT or INTEGER column stayed a DOUBLE (the columnar probe built it from the
 * table's doubles; the rows path of a right or full join typed it from its values), and a right
 * side with a LIST column made every output column lose its type (the rows it took came out typed
 * from their values: INTEGER a DOUBLE, DATE a TIMESTAMP WITH TIME ZONE, DECIMAL text).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { pipeline, fromParquet, toParquet, join as joinOn, type JoinHow } from '../../../index.ts';
import { tempDir } from '../../helpers.ts';
import { duckRun, sqlString, duckDescribe, duckDifferences } from '../formats/parquet/duckdb.ts';

const dir = tempDir();
const left = join(dir, 'left.parquet');
const rightFlat = join(dir, 'right-flat.parquet');
const rightNested = join(dir, 'right-nested.parquet');
const N = 3000;

const ready = (async () => {
  await duckRun("SET TimeZone = 'UTC'");
  await duckRun(
    `COPY (SELECT i::INTEGER AS id, (i % 7)::TINYINT AS k8, (i % 300)::SMALLINT AS k16, (i * 3)::INTEGER AS k32,
       DATE '2024-01-01' + (i % 40)::INTEGER AS d, (i * 0.25)::DECIMAL(9, 2) AS dc
     FROM range(0, ${N}) r(i)) TO ${sqlString(left)} (FORMAT parquet)`,
  );
  const right = `SELECT (i + 500)::INTEGER AS id, (i % 5)::TINYINT AS r8, (i % 200)::SMALLINT AS r16,
       CASE WHEN i % 9 = 0 THEN NULL ELSE (i * 7)::INTEGER END AS r32, (i * 0.5)::FLOAT AS rf,
       DATE '2023-06-01' + (i % 30)::INTEGER AS rd, (i * 0.125)::DECIMAL(12, 3) AS rdc`;
  await duckRun(`COPY (${right} FROM range(0, ${N}) r(i)) TO ${sqlString(rightFlat)} (FORMAT parquet)`);
  await duckRun(
    `COPY (${right}, [i::INTEGER, (i % 3)::INTEGER] AS rli, {'a': i::INTEGER} AS rst FROM range(0, ${N}) r(i))
     TO ${sqlString(rightNested)} (FORMAT parquet)`,
  );
})();

const describe = duckDescribe;
const differences = duckDifferences;

const SQL_HOW: Record<string, string> = { inner: 'INNER', left: 'LEFT', right: 'RIGHT', full: 'FULL' };

for (const [side, right] of [
  ['flat', rightFlat],
  ['nested (LIST and STRUCT)', rightNested],
] as const) {
  for (const how of ['inner', 'left', 'right', 'full'] as JoinHow[]) {
    for (const budget of [undefined, '64KB']) {
      const run = budget ? `partitioned (budget ${budget})` : 'in memory';
      test(`a ${how} join with a ${side} right side keeps every column's type, ${run}`, async () => {
        await ready;
        const out = join(dir, `${how}-${side.split(' ')[0]}-${budget ?? 'all'}.parquet`);
        const { stats } = await pipeline(
          fromParquet(left),
          joinOn(fromParquet(right), { on: 'id', how, ...(budget ? { budget } : {}) }),
          toParquet(out),
        );
        if (budget) assert.ok(Number(stats.stages[1]!.details.partitionsSpilled) > 0, 'it partitioned');
        const expected = `SELECT * FROM ${sqlString(left)} ${SQL_HOW[how]} JOIN ${sqlString(right)} USING (id)`;
        assert.deepEqual(await describe(`SELECT * FROM ${sqlString(out)}`), await describe(expected));
        assert.deepEqual(await differences(`SELECT * FROM ${sqlString(out)}`, expected), [0, 0]);
      });
    }
  }
}

test('a full join on a key INTEGER on the left and BIGINT on the right keeps the right-only keys past 2^31', async () => {
  await ready;
  const wide = join(dir, 'right-wide.parquet');
  await duckRun(
    `COPY (SELECT CASE WHEN i % 2 = 0 THEN i ELSE 5000000000 + i END::BIGINT AS id, i::INTEGER AS rv
     FROM range(0, ${N}) r(i)) TO ${sqlString(wide)} (FORMAT parquet)`,
  );
  for (const budget of [undefined, '64KB']) {
    const out = join(dir, `full-wide-${budget ?? 'all'}.parquet`);
    await pipeline(
      fromParquet(left),
      joinOn(fromParquet(wide), { on: 'id', how: 'full', ...(budget ? { budget } : {}) }),
      toParquet(out),
    );
    const got = await describe(`SELECT * FROM ${sqlString(out)}`);
    assert.equal(got.k8, 'TINYINT');
    assert.equal(got.rv, 'INTEGER');
    const expected = `SELECT * FROM ${sqlString(left)} FULL JOIN ${sqlString(wide)} USING (id)`;
    assert.deepEqual(await differences(`SELECT * REPLACE (id::BIGINT AS id) FROM ${sqlString(out)}`, expected), [0, 0]);
  }
});
