/**
 * A pipeline whose stages keep no row still hands its columns to the sink, as DuckDB's COPY of a
 * query with no result writes a schema and a header: a filter that keeps nothing, and sort, topK,
 * distinct and groupBy over an input of no rows, a join whose keys never meet. Before, toParquet failed ("Cannot infer a Parquet
 * schema without rows") and toCsv wrote a file with no header. A stage that emitted rows emits no
 * extra batch.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  pipeline,
  fromCsv,
  fromParquet,
  toCsv,
  toParquet,
  filter,
  sort,
  topK,
  distinct,
  groupBy,
  agg,
  join as joinOn,
} from '../../../index.ts';
import { tempDir } from '../../helpers.ts';
import { duckRun, parquetReadBack, sqlString } from '../formats/parquet/duckdb.ts';

const dir = tempDir();
const csv = join(dir, 'trades.csv');
const empty = join(dir, 'empty.parquet');
writeFileSync(
  csv,
  `id,symbol,price\n${Array.from({ length: 5000 }, (_, i) => `${i},S${i % 7},${i / 4}`).join('\n')}\n`,
);
const ready = duckRun(
  `COPY (SELECT 1::INTEGER AS id, 'x' AS symbol, 1.5::DECIMAL(9, 2) AS price WHERE false) TO ${sqlString(empty)} (FORMAT parquet)`,
);

test('a filter that keeps no row: toParquet writes the columns, toCsv the header', async () => {
  const out = join(dir, 'none.parquet');
  const { stats } = await pipeline(
    fromCsv(csv, { cast: true }),
    filter((row: { price: number }) => row.price < 0),
    toParquet(out),
  );
  assert.equal(stats.rowsOut, 0);
  assert.deepEqual((await parquetReadBack(out)).types, ['id:DOUBLE', 'symbol:VARCHAR', 'price:DOUBLE']);
  const text = join(dir, 'none.csv');
  await pipeline(
    fromCsv(csv, { cast: true }),
    filter(() => false),
    toCsv(text),
  );
  assert.equal(readFileSync(text, 'utf8'), 'id,symbol,price\n');
});

test('a filter that keeps rows emits no extra batch of no rows', async () => {
  const { stats } = await pipeline(
    fromCsv(csv, { cast: true, batchSize: 1000 }),
    filter((row: { id: number }) => row.id >= 4500),
    toParquet(join(dir, 'some.parquet')),
  );
  const stage = stats.stages[1]!;
  assert.equal(stage.rowsOut, 500);
  assert.equal(stage.batchesOut, 1);
});

const operators = {
  sort: () => sort(['price', 'id']),
  topK: () => topK(3, ['price']),
  distinct: () => distinct(),
  groupBy: () => groupBy(['symbol'], { n: agg.count(), hi: agg.max('price'), total: agg.sum('price') }),
};

for (const [name, make] of Object.entries(operators)) {
  test(`${name} over a Parquet file of no rows writes its columns`, async () => {
    await ready;
    const out = join(dir, `${name}-empty.parquet`);
    const { output } = await pipeline(fromParquet(empty), make(), toParquet(out));
    assert.equal(output.rows, 0);
    const expected =
      name === 'groupBy'
        ? ['symbol:VARCHAR', 'n:DOUBLE', 'hi:DECIMAL(9,2)', 'total:DOUBLE']
        : ['id:INTEGER', 'symbol:VARCHAR', 'price:DECIMAL(9,2)'];
    assert.deepEqual((await parquetReadBack(out)).types, expected);
  });
}

test('sort over a CSV of only a header writes the header', async () => {
  const header = join(dir, 'header.csv');
  writeFileSync(header, 'a,b\n');
  const out = join(dir, 'header-sorted.csv');
  await pipeline(fromCsv(header), sort(['a']), toCsv(out));
  assert.equal(readFileSync(out, 'utf8'), 'a,b\n');
});

test('a join whose keys never meet writes the left columns, then the right ones', async () => {
  const symbols = join(dir, 'symbols.csv');
  writeFileSync(symbols, 'symbol,name,price\nZZZ,Sleepy,1.5\n');
  const out = join(dir, 'join-none.parquet');
  const { output } = await pipeline(
    fromCsv(csv, { cast: true }),
    joinOn(fromCsv(symbols, { cast: true }), { on: 'symbol' }),
    toParquet(out),
  );
  assert.equal(output.rows, 0);
  // the shared key once, the right `price` renamed as a joined row's would be
  assert.deepEqual((await parquetReadBack(out)).types, [
    'id:DOUBLE',
    'symbol:VARCHAR',
    'price:DOUBLE',
    'name:VARCHAR',
    'price_right:DOUBLE',
  ]);
  const semi = join(dir, 'semi-none.csv');
  await pipeline(fromCsv(csv, { cast: true }), joinOn(fromCsv(symbols), { on: 'symbol', how: 'semi' }), toCsv(semi));
  assert.equal(readFileSync(semi, 'utf8'), 'id,symbol,price\n');
});

test('a join with a right input of no rows keeps its types; rows on the right are typed by their values, a number as a double', async () => {
  await ready;
  const out = join(dir, 'join-empty-right.parquet');
  await pipeline(fromCsv(csv, { cast: true }), joinOn(fromParquet(empty), { on: 'id' }), toParquet(out));
  assert.deepEqual((await parquetReadBack(out)).types, [
    'id:DOUBLE',
    'symbol:VARCHAR',
    'price:DOUBLE',
    'symbol_right:VARCHAR',
    'price_right:DECIMAL(9,2)',
  ]);
  const rows = join(dir, 'join-rows-right.parquet');
  await pipeline(
    fromParquet(empty),
    joinOn([{ id: 1, label: 'one', big: 2n ** 60n, n: 7 }], { on: 'id', how: 'left' }),
    toParquet(rows),
  );
  assert.deepEqual((await parquetReadBack(rows)).types, [
    'id:INTEGER',
    'symbol:VARCHAR',
    'price:DECIMAL(9,2)',
    'label:VARCHAR',
    'big:BIGINT',
    'n:DOUBLE',
  ]);
});
