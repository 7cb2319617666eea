/**
 * A Parquet dataset whose files hold one DECIMAL column at different scales (DuckDB and Spark
 * write each query's own scale): every value is read, sorted, aggregated and written at its own
 * value, at the scale planned from every file's footer. Until 2026-12-07 apache-arrow's type
 * comparison took any two decimals for one type, so a DECIMAL(12,4) batch after a DECIMAL(10,2)
 * one was read at scale 2 by every stage that unifies schemas: 0.2500 became 25.00, silently.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Decimal, Field, Schema } from 'apache-arrow';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { agg, collect, fromParquet, groupBy, pipeline, sort, toArrow, toParquet } from '../../../index.ts';
import { schemasEqual, unifySchemas } from '../../../lib/formats/arrow/widen.ts';
import { tempDir } from '../../helpers.ts';

let dir: string;
let db: DuckDBInstance;
let con: DuckDBConnection;

before(async () => {
  dir = tempDir();
  mkdirSync(join(dir, 'ds'));
  db = await DuckDBInstance.create(':memory:', { threads: '1' });
  con = await db.connect();
  // 3000 rows a file, in several row groups; negative values, whole and fractional parts of
  // different lengths, and values whose text order differs from their order (9.50 < 24.00)
  await con.run(
    `COPY (SELECT i AS id, 'g' || (i % 3) AS g, (((i * 37) % 1000 - 500) / 8)::DECIMAL(10,2) AS price FROM range(3000) t(i)) TO '${dir}/ds/a.parquet' (FORMAT parquet, ROW_GROUP_SIZE 1000)`,
  );
  await con.run(
    `COPY (SELECT 3000 + i AS id, 'g' || (i % 3) AS g, (((i * 41) % 1000 - 500) / 16)::DECIMAL(12,4) AS price FROM range(3000) t(i)) TO '${dir}/ds/b.parquet' (FORMAT parquet, ROW_GROUP_SIZE 1000)`,
  );
  await con.run(
    `COPY (SELECT 6000 + i AS id, 'g' || (i % 3) AS g, (((i * 43) % 1000 - 500) * 1000)::DECIMAL(18,0) AS price FROM range(1000) t(i)) TO '${dir}/ds/c.parquet' (FORMAT parquet)`,
  );
});

after(async () => {
  con.closeSync();
  db.closeSync();
  rmSync(dir, { recursive: true, force: true });
});

async function rows(sql: string): Promise<Record<string, unknown>[]> {
  const reader = await con.runAndReadAll(sql);
  return reader.getRowObjectsJS() as Record<string, unknown>[];
}

/** Exact value of a decimal's text, as a bigint at scale 4. */
function units(text: unknown): bigint {
  const [whole, fraction = ''] = String(text).split('.');
  const negative = whole!.startsWith('-');
  const v = BigInt(whole!.replace('-', '')) * 10000n + BigInt((fraction + '0000').slice(0, 4));
  return negative ? -v : v;
}

test('decimals of other scales unify to the larger scale and integer digits, and compare by type', () => {
  const a = new Schema([new Field('p', new Decimal(2, 10, 128))]);
  const b = new Schema([new Field('p', new Decimal(4, 12, 128))]);
  assert.equal(schemasEqual(a, b), false, 'DECIMAL(10,2) is not DECIMAL(12,4)');
  const type = unifySchemas(a, b).fields[0]!.type as Decimal;
  assert.deepEqual([type.precision, type.scale], [12, 4]);
  const wide = unifySchemas(a, new Schema([new Field('p', new Decimal(0, 18, 128))])).fields[0]!.type as Decimal;
  assert.deepEqual([wide.precision, wide.scale], [20, 2]);
  assert.throws(
    () => unifySchemas(new Schema([new Field('p', new Decimal(0, 38, 128))]), b),
    /cannot widen without loss/,
  );
});

test('sort over the dataset: every value at its own value and in order, spilling or not', {
  timeout: 120_000,
}, async () => {
  const expected = (
    await rows(`SELECT id FROM read_parquet('${dir}/ds/*.parquet', union_by_name = true) ORDER BY price, id`)
  ).map((r) => Number(r.id));
  const values = new Map(
    (await rows(`SELECT id, price::VARCHAR AS p FROM read_parquet('${dir}/ds/*.parquet', union_by_name = true)`)).map(
      (r) => [Number(r.id), units(r.p)],
    ),
  );
  for (const budget of [undefined, '16KB']) {
    const scratch = join(dir, 'scratch');
    mkdirSync(scratch, { recursive: true });
    const { output, stats } = await pipeline(
      fromParquet(join(dir, 'ds/*.parquet')),
      sort(['price', 'id'], { dir: scratch, ...(budget ? { budget } : {}) }),
      collect(),
    );
    assert.deepEqual(
      output.map((r) => (r as { id: number }).id),
      expected,
      `order, budget ${budget}`,
    );
    for (const r of output as { id: number; price: string }[])
      assert.equal(units(r.price), values.get(r.id), `row ${r.id} keeps its value (${r.price})`);
    if (budget) assert.ok(Number(stats.stages.find((s) => s.name === 'sort')!.details.runsSpilled) > 1, 'spilled');
    assert.deepEqual(readdirSync(scratch), []);
  }
});

test('the sorted dataset written to Arrow holds the values DuckDB reads from the files', {
  timeout: 60_000,
}, async () => {
  const out = join(dir, 'sorted.arrow');
  await pipeline(fromParquet(join(dir, 'ds/*.parquet')), sort('id'), toArrow(out));
  const { output } = await pipeline(fromParquet(join(dir, 'ds/b.parquet')), collect());
  const { output: back } = await pipeline((await import('../../../index.ts')).fromArrow(out), collect());
  const byId = new Map((back as { id: number; price: string }[]).map((r) => [r.id, units(r.price)]));
  for (const r of output as { id: number; price: string }[])
    assert.equal(byId.get(r.id), units(r.price), `row ${r.id}`);
});

test('groupBy min, max and sum over the dataset equal DuckDB, in memory and spilled', {
  timeout: 120_000,
}, async () => {
  const expected = await rows(
    `SELECT g, min(price::DECIMAL(38,4))::VARCHAR AS lo, max(price::DECIMAL(38,4))::VARCHAR AS hi, sum(price::DECIMAL(38,4))::VARCHAR AS total FROM read_parquet('${dir}/ds/*.parquet', union_by_name = true) GROUP BY g ORDER BY g`,
  );
  for (const budget of [undefined, '4KB']) {
    const { output, stats } = await pipeline(
      fromParquet(join(dir, 'ds/*.parquet')),
      groupBy('g', { lo: agg.min('price'), hi: agg.max('price'), total: agg.sum('price') }, budget ? { budget } : {}),
      collect(),
    );
    const got = (output as { g: string; lo: string; hi: string; total: string }[]).sort((x, y) => (x.g < y.g ? -1 : 1));
    assert.deepEqual(
      got.map((r) => [r.g, units(r.lo), units(r.hi), units(r.total)]),
      expected.map((r) => [r.g, units(r.lo), units(r.hi), units(r.total)]),
      `budget ${budget}`,
    );
    if (budget)
      assert.ok(Number(stats.stages.find((s) => s.name === 'groupBy')!.details.partitionsSpilled) > 0, 'spilled');
  }
});

test('a decimal key whose scale changes between files groups by value: every batch has the scale planned from the footers', {
  timeout: 60_000,
}, async () => {
  // until the dataset planned one schema from every footer, the first file's batches kept scale 2
  // and groupBy refused the key rather than make two groups of 0.50 and 0.5000
  const { output } = await pipeline(
    fromParquet(join(dir, 'ds/*.parquet')),
    groupBy('price', { n: agg.count() }),
    collect(),
  );
  const expected = await rows(
    `SELECT price::VARCHAR AS price, count(*)::INTEGER AS n FROM read_parquet('${dir}/ds/*.parquet', union_by_name = true) GROUP BY price`,
  );
  const key = (r: Record<string, unknown>): string => `${units(r.price)}:${Number(r.n)}`;
  assert.deepEqual(output.map((r) => key(r as Record<string, unknown>)).sort(), expected.map(key).sort());
});

test('toParquet copies the dataset at the scale DuckDB unifies the files to, every value exact', {
  timeout: 60_000,
}, async () => {
  // it refused the second file's scale: the Parquet column had the first file's DECIMAL(10,2)
  const out = join(dir, 'copy.parquet');
  await pipeline(fromParquet(join(dir, 'ds/*.parquet')), toParquet(out));
  const union = `SELECT * FROM read_parquet('${dir}/ds/*.parquet', union_by_name = true)`;
  const copy = `SELECT * FROM read_parquet('${out}')`;
  const types = async (sql: string) => (await rows(`DESCRIBE ${sql}`)).map((r) => `${r.column_name}:${r.column_type}`);
  assert.deepEqual(await types(copy), await types(union));
  const [missing] = await rows(`SELECT count(*)::INTEGER AS n FROM ((${union}) EXCEPT ALL (${copy}))`);
  const [extra] = await rows(`SELECT count(*)::INTEGER AS n FROM ((${copy}) EXCEPT ALL (${union}))`);
  assert.deepEqual([missing!.n, extra!.n], [0, 0]);
});
