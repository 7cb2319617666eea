/**
 * A Parquet dataset whose files give a column different number or temporal types (DuckDB writes
 * each query's own) is read as Arrow with the type DuckDB's `union_by_name` unifies them to, where
 * that keeps every value: SMALLINT + INTEGER failed as "cannot widen without loss", and so did
 * UINTEGER + INTEGER, TINYINT + UTINYINT, FLOAT + DOUBLE and DATE + TIMESTAMP. A pair that would
 * change a value (BIGINT + DOUBLE: DuckDB's DOUBLE rounds 2^53 + 1) is still a coded error.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { pipeline, fromParquet, toParquet, collect, ErrorCodes } from '../../../index.ts';
import { tempDir } from '../../helpers.ts';
import { duckDescribe, duckDifferences, duckRun, sqlString } from '../formats/parquet/duckdb.ts';

const dir = tempDir();

/** Files of one column `x` each, written by DuckDB. */
async function dataset(name: string, selects: readonly string[]): Promise<string> {
  const root = join(dir, name);
  mkdirSync(root, { recursive: true });
  for (const [i, select] of selects.entries())
    await duckRun(`COPY (${select}) TO ${sqlString(join(root, `part-${i}.parquet`))} (FORMAT parquet)`);
  return root;
}

const union = (root: string): string =>
  `SELECT * FROM read_parquet(${sqlString(`${root}/*.parquet`)}, union_by_name = true)`;

const WIDENED: Record<string, string[]> = {
  smallint_integer: [
    'SELECT (-i)::SMALLINT AS x FROM range(3) t(i)',
    'SELECT (100000 + i)::INTEGER AS x FROM range(3) t(i)',
  ],
  uinteger_integer: ['SELECT 4294967295::UINTEGER AS x', 'SELECT (-1)::INTEGER AS x'],
  tinyint_utinyint: ['SELECT (-128)::TINYINT AS x', 'SELECT 255::UTINYINT AS x'],
  float_double: ['SELECT 0.1::FLOAT AS x', 'SELECT 0.1::DOUBLE AS x'],
  integer_double: ['SELECT 7::INTEGER AS x', 'SELECT 1.5::DOUBLE AS x'],
};

for (const [name, selects] of Object.entries(WIDENED))
  test(`${name.replace('_', ' + ')}: copied as Arrow with DuckDB's unified type and every value`, async () => {
    const root = await dataset(name, selects);
    for (const output of [undefined, 'arrow'] as const) {
      const out = join(dir, `${name}-${output ?? 'negotiated'}.parquet`);
      await pipeline(fromParquet(root, output ? { output } : {}), toParquet(out));
      assert.deepEqual(await duckDescribe(`SELECT * FROM ${sqlString(out)}`), await duckDescribe(union(root)));
      assert.deepEqual(await duckDifferences(`SELECT * FROM ${sqlString(out)}`, union(root)), [0, 0]);
    }
  });

const PLANNED: Record<string, string[]> = {
  date_timestamp: [`SELECT DATE '2024-01-01' AS x`, `SELECT TIMESTAMP '2024-01-01 12:00:00.25' AS x`],
  null_decimal_then_wider: ['SELECT NULL::DECIMAL(4, 1) AS x', 'SELECT 123456.789::DECIMAL(12, 3) AS x'],
  decimal_scales: [
    'SELECT 1.25::DECIMAL(10, 2) AS x',
    'SELECT 0.2500::DECIMAL(12, 4) AS x',
    'SELECT 123456789.1::DECIMAL(18, 1) AS x',
  ],
};

// a sink fixes a column's type on its first batch: the first file's batches must already have the
// type the later files need (toParquet refused DATE then TIMESTAMP, DECIMAL(4,1) then (12,3))
for (const [name, selects] of Object.entries(PLANNED))
  test(`${name}: the first file's batches have the type planned from every footer, so toParquet takes them all`, async () => {
    const root = await dataset(name, selects);
    const out = join(dir, `${name}.parquet`);
    const { stats } = await pipeline(fromParquet(root), toParquet(out));
    assert.match(String(stats.stages[0]!.details.outputChosen), /^arrow/);
    assert.deepEqual(await duckDescribe(`SELECT * FROM ${sqlString(out)}`), await duckDescribe(union(root)));
    assert.deepEqual(await duckDifferences(`SELECT * FROM ${sqlString(out)}`, union(root)), [0, 0]);
  });

test('TIMESTAMP + TIMESTAMPTZ do not unify without a time zone: a negotiated read takes rows, and says why', async () => {
  const root = await dataset('timestamp_tz', [
    `SELECT TIMESTAMP '2024-01-01 00:00:00' AS x`,
    `SELECT TIMESTAMPTZ '2024-01-01 00:00:00+00' AS x`,
  ]);
  const { output, stats } = await pipeline(fromParquet(root), toParquet(join(dir, 'timestamp_tz.parquet')));
  assert.equal(output.rows, 2);
  assert.match(
    String(stats.stages[0]!.details.outputChosen),
    /^rows: .*changed type .*part-0\.parquet and .*part-1\.parquet do not agree/,
  );
});

test('BIGINT + DOUBLE would round a value: a coded error naming both files', async () => {
  const root = await dataset('bigint_double', ['SELECT 9007199254740993::BIGINT AS x', 'SELECT 1.5::DOUBLE AS x']);
  await assert.rejects(
    pipeline(fromParquet(root, { output: 'arrow' }), collect()),
    (error: Error & { code?: string }) => {
      assert.equal(error.code, ErrorCodes.SCHEMA_MISMATCH);
      assert.match(error.message, /Column "x" changed type from Int64 to Float64/);
      assert.match(error.message, /part-0\.parquet and .*part-1\.parquet/);
      return true;
    },
  );
});
