/**
 * A read that keeps no row still hands its columns to the sink, as DuckDB's COPY of a query with
 * no result writes a header and a schema: a `where` that prunes every row group or drops every
 * row, a dataset whose files are empty, projected and with hive columns. Before, the source
 * yielded nothing, so `spillway convert --where ...` wrote a 0-byte CSV with no header and
 * toParquet failed. A dataset where some file gives rows is unchanged: no extra batch.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { collect, fromCsv, fromParquet, pipeline, toCsv, toParquet } from '../../../index.ts';
import { duckRows, duckRun, sqlString } from '../formats/parquet/duckdb.ts';
import { tempDir } from '../../helpers.ts';

const dir = tempDir();
const ready = (async () => {
  for (const day of [1, 2]) {
    mkdirSync(path.join(dir, 'ds', `day=${day}`), { recursive: true });
    await duckRun(
      `COPY (SELECT i AS id, i * 1.5 AS price, 'n' || i AS note FROM range(${day * 100}) t(i)) TO ${sqlString(path.join(dir, 'ds', `day=${day}`, 'p.parquet'))} (FORMAT parquet, ROW_GROUP_SIZE 50)`,
    );
  }
  mkdirSync(path.join(dir, 'empty', 'day=1'), { recursive: true });
  await duckRun(
    `COPY (SELECT 1 AS id, 1.5 AS price, 'x' AS note WHERE false) TO ${sqlString(path.join(dir, 'empty', 'day=1', 'p.parquet'))} (FORMAT parquet)`,
  );
  await duckRun(
    `COPY (SELECT i AS id, i * 1.5 AS price, 'n' || i AS note FROM range(200) t(i)) TO ${sqlString(path.join(dir, 'flat.parquet'))} (FORMAT parquet, ROW_GROUP_SIZE 50)`,
  );
  writeFileSync(path.join(dir, 'rows.csv'), 'id,price,note\n1,1.5,a\n2,3,b\n');
})();

const csvText = async (source: Parameters<typeof pipeline>[0], name: string): Promise<string> => {
  const out = path.join(dir, name);
  await pipeline(source as never, toCsv(out));
  return readFileSync(out, 'utf8');
};

test('a where that prunes every row group, or drops every row, writes the header', async () => {
  await ready;
  const file = path.join(dir, 'flat.parquet');
  // pruned by the statistics: no row group is read
  assert.equal(
    await csvText(fromParquet(file, { where: { col: 'id', op: '>', value: 10_000 } }), 'pruned.csv'),
    'id,price,note\n',
  );
  // read, and every row dropped (the statistics cannot rule the row groups out)
  assert.equal(
    await csvText(fromParquet(file, { where: { col: 'note', op: '=', value: 'n7x' } }), 'dropped.csv'),
    'id,price,note\n',
  );
  // CSV input, rows: the header's names
  assert.equal(
    await csvText(fromCsv(path.join(dir, 'rows.csv'), { where: { col: 'note', op: '=', value: 'z' } }), 'csv.csv'),
    'id,price,note\n',
  );
  // to Parquet: the schema DuckDB gives the source
  const out = path.join(dir, 'pruned.parquet');
  await pipeline(fromParquet(file, { where: { col: 'id', op: '>', value: 10_000 } }), toParquet(out));
  const describe = async (f: string) =>
    (await duckRows(`DESCRIBE SELECT * FROM read_parquet(${sqlString(f)})`)).rows.map(
      (r) => `${String(r.column_name)}:${String(r.column_type)}`,
    );
  assert.deepEqual(await describe(out), await describe(file));
  assert.equal((await duckRows(`SELECT count(*)::INTEGER AS n FROM read_parquet(${sqlString(out)})`)).rows[0]!.n, 0);
});

test('a dataset with hive columns and a projection: the asked columns, in order; rows from any file mean no extra batch', async () => {
  await ready;
  const none = { hive: true, columns: ['day', 'note'], where: { col: 'id', op: '<', value: 0 } } as const;
  assert.equal(await csvText(fromParquet(path.join(dir, 'ds'), none), 'ds-none.csv'), 'day,note\n');
  assert.equal(await csvText(fromParquet(path.join(dir, 'empty'), { hive: true }), 'empty.csv'), 'id,price,note,day\n');
  // some rows: exactly those, and a collect sees no empty batch
  const some = await pipeline(
    fromParquet(path.join(dir, 'ds'), {
      hive: true,
      columns: ['day', 'id'],
      where: { col: 'id', op: '>=', value: 190 },
    }),
    collect(),
  );
  assert.deepEqual(
    some.output,
    Array.from({ length: 10 }, (_, i) => ({ day: 2, id: 190 + i })),
  );
  assert.equal(
    some.stats.stages[0]!.batchesOut,
    some.stats.stages[0]!.batchesOut && Math.max(1, some.stats.stages[0]!.batchesOut),
  );
  const nothing = await pipeline(fromParquet(path.join(dir, 'ds'), none), collect());
  assert.deepEqual(nothing.output, []);
});
