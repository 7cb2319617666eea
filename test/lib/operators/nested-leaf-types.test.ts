/**
 * distinct and groupBy keep every column's type when a nested column (a STRUCT field, a MAP value,
 * a LIST element) holds BIGINT leaves: the nested column's check read its int64 values back as
 * numbers where they went in as bigints (or was refused a number by the builder) and the whole
 * output fell back to rows typed from their values (INTEGER a DOUBLE, DATE a TIMESTAMP WITH TIME
 * ZONE, DECIMAL text, a MAP a list of structs, a BIGINT[] past 2^53 JSON text). DECIMAL leaves did
 * the same (apache-arrow's builder takes a decimal's words, not its text). Each output's types and
 * values are compared with DuckDB's same query.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { pipeline, fromParquet, toParquet, groupBy, distinct, agg } from '../../../index.ts';
import { tempDir } from '../../helpers.ts';
import { duckRun, sqlString, duckDescribe, duckDifferences } from '../formats/parquet/duckdb.ts';

const dir = tempDir();

const NESTED: Record<string, string> = {
  struct: `{'a': (i * 3)::BIGINT}`,
  map: `MAP {'k': (i * 3)::BIGINT}`,
  list: `[(i * 3)::BIGINT, 1]`,
  big_list: `[(9007199254740993 + i)::BIGINT, 1]`,
  big_struct: `{'a': (9007199254740993 + i)::BIGINT, 'b': i::INTEGER}`,
  decimal_list: `[(i / 7)::DECIMAL(10, 2), NULL, (-i * 1.25)::DECIMAL(10, 2)]`,
  decimal_struct: `{'a': (-i * 1.0625)::DECIMAL(38, 4), 'b': (i % 7)::DECIMAL(4, 0)}`,
  decimal_map: `MAP {'k': (i * 1000000.5)::DECIMAL(18, 1)}`,
};

const describe = duckDescribe;
const differences = duckDifferences;

for (const [name, expr] of Object.entries(NESTED)) {
  const src = join(dir, `${name}.parquet`);
  const ready = duckRun(
    `COPY (SELECT (i % 50)::INTEGER AS id, DATE '2024-01-01' + (i % 2)::INTEGER AS d,
       (i * 1.5)::DECIMAL(9, 2) AS dc, (i % 3)::TINYINT AS k8, ${expr} AS nest
     FROM range(0, 4000) r(i)) TO ${sqlString(src)} (FORMAT parquet)`,
  );

  for (const budget of [undefined, '64KB']) {
    const how = budget ? `spilled (budget ${budget})` : 'in memory';

    test(`distinct keeps every type beside a ${name} column of BIGINT or DECIMAL leaves, ${how}`, async () => {
      await ready;
      const out = join(dir, `${name}-distinct-${budget ?? 'all'}.parquet`);
      const { stats } = await pipeline(fromParquet(src), distinct(undefined, budget ? { budget } : {}), toParquet(out));
      if (budget) assert.ok(Number(stats.stages[1]!.details.partitionsSpilled) > 0, 'it spilled');
      const expected = `SELECT DISTINCT * FROM ${sqlString(src)}`;
      assert.deepEqual(await describe(`SELECT * FROM ${sqlString(out)}`), await describe(expected));
      assert.deepEqual(await differences(`SELECT * FROM ${sqlString(out)}`, expected), [0, 0]);
    });

    test(`groupBy a ${name} column of BIGINT or DECIMAL leaves keeps its type and a min's, ${how}`, async () => {
      await ready;
      const out = join(dir, `${name}-group-${budget ?? 'all'}.parquet`);
      const { stats } = await pipeline(
        fromParquet(src),
        groupBy(['nest', 'k8'], { n: agg.count(), d: agg.min('d'), dc: agg.max('dc') }, budget ? { budget } : {}),
        toParquet(out),
      );
      if (budget) assert.ok(Number(stats.stages[1]!.details.partitionsSpilled) > 0, 'it spilled');
      const expected = `SELECT nest, k8, count(*)::DOUBLE AS n, min(d) AS d, max(dc) AS dc FROM ${sqlString(src)} GROUP BY ALL`;
      assert.deepEqual(await describe(`SELECT * FROM ${sqlString(out)}`), await describe(expected));
      assert.deepEqual(await differences(`SELECT * FROM ${sqlString(out)}`, expected), [0, 0]);
    });
  }
}

test('a typed column whose values do not fit its type falls back alone: the other columns keep theirs', async () => {
  const { typedBatch } = await import('../../../lib/operators/input-types.ts');
  const { Field, Int8, DateDay } = await import('apache-arrow');
  const fields: Record<string, InstanceType<typeof Field>> = {
    small: new Field('small', new Int8(), true),
    day: new Field('day', new DateDay(), true),
  };
  const rows = [
    { small: 1.5, day: new Date(Date.UTC(2024, 0, 1)), text: 'a' },
    { small: 2, day: null, text: null },
  ];
  const batch = typedBatch(rows, ['small', 'day', 'text'], (name) => fields[name]);
  assert.ok(batch, 'a batch, not rows');
  assert.deepEqual(
    batch.schema.fields.map((f) => `${f.name}:${String(f.type)}`),
    ['small:Float64', 'day:Date32<DAY>', 'text:Utf8'],
  );
  assert.deepEqual(
    batch.toArray().map((r) => r.toJSON()),
    [
      { small: 1.5, day: Date.UTC(2024, 0, 1), text: 'a' },
      { small: 2, day: null, text: null },
    ],
  );
});
