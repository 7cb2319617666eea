/**
 * groupBy, distinct and a join's right columns keep the types of their Arrow input (input-types.ts): DECIMAL keys, min
 * and max stay DECIMAL and compare as numbers, BIGINT keys past 2^53 stay BIGINT (toParquet
 * refused the mix of numbers and bigints they came out as), INTEGER stays INTEGER, timestamps
 * keep their type and unit, DATE and TIME stay DATE and TIME (not a timestamp and text); in
 * memory and spilled. A join's rows path (a full join) keeps both inputs' types. Each result is compared with DuckDB's same query.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { pipeline, fromParquet, toParquet, groupBy, distinct, filter, join as joinOn, agg } from '../../../index.ts';
import { tempDir } from '../../helpers.ts';
import { duckRows, duckRun, parquetReadBack, sqlString } from '../formats/parquet/duckdb.ts';

const dir = tempDir();
const file = join(dir, 'typed.parquet');
const N = 20_000;

const ready = (async () => {
  await duckRun("SET TimeZone = 'UTC'");
  await duckRun(
    `COPY (SELECT i AS id,
       CASE WHEN i % 13 = 0 THEN NULL ELSE ((i * 37) % 1601 - 800)::DECIMAL(12, 3) / 8 END::DECIMAL(12, 3) AS amount,
       CASE WHEN i % 11 = 0 THEN NULL ELSE 9007199254740993 * (i % 5 - 2) + (i % 7) END::BIGINT AS big,
       (i % 17)::INTEGER AS small,
       TIMESTAMP '2026-01-05 00:00:00' + INTERVAL ((i % 29) * 1001) MICROSECOND AS ts,
       CASE WHEN i % 19 = 0 THEN NULL ELSE DATE '1969-12-25' + (i % 23)::INTEGER END AS day,
       TIME '00:00:00' + INTERVAL ((i % 31) * 1234567) MICROSECOND AS tod
     FROM range(${N}) t(i)) TO ${sqlString(file)} (FORMAT parquet)`,
  );
})();

/** Rows of `a` not in `b` and of `b` not in `a` (as multisets): both must be 0. */
async function differences(a: string, b: string): Promise<[number, number]> {
  const count = async (x: string, y: string): Promise<number> => {
    const { rows } = await duckRows(`SELECT count(*)::INTEGER AS n FROM ((${x}) EXCEPT ALL (${y}))`);
    return rows[0]!.n as number;
  };
  return [await count(a, b), await count(b, a)];
}

for (const budget of [undefined, '256KB']) {
  const how = budget ? `spilled (budget ${budget})` : 'in memory';

  test(`groupBy keeps DECIMAL, BIGINT, INTEGER and TIMESTAMP keys and a decimal's min and max, ${how}`, async () => {
    await ready;
    const out = join(dir, `groupby-${budget ?? 'all'}.parquet`);
    const { stats } = await pipeline(
      fromParquet(file),
      groupBy(
        ['amount', 'big', 'small', 'ts'],
        { n: agg.count(), lo: agg.min('amount'), hi: agg.max('amount') },
        budget ? { budget } : {},
      ),
      toParquet(out),
    );
    if (budget) assert.ok(Number(stats.stages[1]!.details.partitionsSpilled) > 0, 'it spilled');
    const { types } = await parquetReadBack(out);
    assert.deepEqual(types.slice(0, 4), ['amount:DECIMAL(12,3)', 'big:BIGINT', 'small:INTEGER', 'ts:TIMESTAMP']);
    const dated = join(dir, `groupby-day-${budget ?? 'all'}.parquet`);
    await pipeline(
      fromParquet(file),
      groupBy(['day', 'tod'], { n: agg.count() }, budget ? { budget } : {}),
      toParquet(dated),
    );
    assert.deepEqual((await parquetReadBack(dated)).types, ['day:DATE', 'tod:TIME', 'n:DOUBLE']);
    assert.deepEqual(
      await differences(
        `SELECT day, tod, n FROM ${sqlString(dated)}`,
        `SELECT day, tod, count(*) FROM ${sqlString(file)} GROUP BY ALL`,
      ),
      [0, 0],
    );
    assert.deepEqual(types.slice(5), ['lo:DECIMAL(12,3)', 'hi:DECIMAL(12,3)']);
    const expected = `SELECT amount, big, small, ts, count(*), min(amount), max(amount) FROM ${sqlString(file)} GROUP BY ALL`;
    const got = `SELECT amount, big, small, ts, n, lo, hi FROM ${sqlString(out)}`;
    assert.deepEqual(await differences(got, expected), [0, 0]);
  });

  test(`groupBy keys keep their types beside a first and last of DATE and TIMESTAMP columns, ${how}`, async () => {
    // a first of a date made the whole output rows until 2026-12-07: an INTEGER key came out
    // DOUBLE, a DATE key a timestamp (first and last now keep their column's type, as min and max)
    await ready;
    const out = join(dir, `groupby-first-${budget ?? 'all'}.parquet`);
    await pipeline(
      fromParquet(file),
      groupBy(['big', 'small'], { first: agg.first('day'), last: agg.last('ts') }, budget ? { budget } : {}),
      toParquet(out),
    );
    const { types } = await parquetReadBack(out);
    assert.deepEqual(types, ['big:BIGINT', 'small:INTEGER', 'first:DATE', 'last:TIMESTAMP']);
    const { rows } = await duckRows(`SELECT count(*)::INTEGER AS n FROM ${sqlString(out)}`);
    const { rows: groups } = await duckRows(
      `SELECT count(DISTINCT (big, small))::INTEGER AS n FROM ${sqlString(file)}`,
    );
    assert.equal(rows[0]!.n, groups[0]!.n);
  });

  test(`distinct keeps every column's type, ${how}`, async () => {
    await ready;
    const out = join(dir, `distinct-${budget ?? 'all'}.parquet`);
    await pipeline(
      fromParquet(file, { columns: ['amount', 'big', 'small', 'day', 'tod'] }),
      distinct(undefined, budget ? { budget } : {}),
      toParquet(out),
    );
    const { types } = await parquetReadBack(out);
    assert.deepEqual(types, ['amount:DECIMAL(12,3)', 'big:BIGINT', 'small:INTEGER', 'day:DATE', 'tod:TIME']);
    const expected = `SELECT DISTINCT amount, big, small, day, tod FROM ${sqlString(file)}`;
    assert.deepEqual(await differences(`SELECT * FROM ${sqlString(out)}`, expected), [0, 0]);
  });
  test(`a join's right DECIMAL, BIGINT and TIMESTAMP columns keep their types, ${how}`, async () => {
    await ready;
    const out = join(dir, `join-${budget ?? 'all'}.parquet`);
    const { stats } = await pipeline(
      fromParquet(file, { columns: ['id', 'small'] }),
      joinOn(fromParquet(file, { columns: ['id', 'amount', 'big', 'ts'] }), {
        on: 'id',
        ...(budget ? { budget } : {}),
      }),
      toParquet(out),
    );
    if (budget) assert.ok(Number(stats.stages[1]!.details.partitionsSpilled) > 0, 'it partitioned');
    const { types } = await parquetReadBack(out);
    assert.deepEqual(types, ['id:BIGINT', 'small:INTEGER', 'amount:DECIMAL(12,3)', 'big:BIGINT', 'ts:TIMESTAMP']);
    const expected = `SELECT id, small, amount, big, ts FROM ${sqlString(file)}`;
    assert.deepEqual(await differences(`SELECT * FROM ${sqlString(out)}`, expected), [0, 0]);
  });

  test(`a full join (rows out) keeps both sides' BIGINT, DECIMAL, DATE and TIME types, ${how}`, async () => {
    await ready;
    const out = join(dir, `full-${budget ?? 'all'}.parquet`);
    await pipeline(
      fromParquet(file, { columns: ['id', 'big', 'day'] }),
      joinOn(
        [
          fromParquet(file, { columns: ['id', 'amount', 'tod'] }),
          filter((r: { id: bigint | number }) => Number(r.id) % 3 !== 0),
        ],
        {
          on: 'id',
          how: 'full',
          ...(budget ? { budget } : {}),
        },
      ),
      toParquet(out),
    );
    const { types } = await parquetReadBack(out);
    assert.deepEqual(types, ['id:BIGINT', 'big:BIGINT', 'day:DATE', 'amount:DECIMAL(12,3)', 'tod:TIME']);
    const expected = `SELECT id, l.big, l.day, r.amount, r.tod FROM ${sqlString(file)} l FULL JOIN (SELECT * FROM ${sqlString(file)} WHERE id % 3 <> 0) r USING (id)`;
    assert.deepEqual(await differences(`SELECT * FROM ${sqlString(out)}`, expected), [0, 0]);
  });
}

test('max of a DECIMAL column is the largest number, not the last in text order', async () => {
  await ready;
  const out = join(dir, 'max.parquet');
  await pipeline(
    fromParquet(file),
    groupBy(['small'], { hi: agg.max('amount'), lo: agg.min('amount') }),
    toParquet(out),
  );
  const expected = `SELECT small, max(amount) AS hi, min(amount) AS lo FROM ${sqlString(file)} GROUP BY small`;
  assert.deepEqual(await differences(`SELECT small, hi, lo FROM ${sqlString(out)}`, expected), [0, 0]);
  const { rows } = await duckRows(`SELECT max(hi)::VARCHAR AS hi FROM ${sqlString(out)}`);
  assert.equal(rows[0]!.hi, '100.000');
});
