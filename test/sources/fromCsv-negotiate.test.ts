/**
 * One file, two forms: fromCsv -> toParquet with the form negotiated (Arrow) and with
 * `output: 'rows'` forced must write the same Parquet schema and the same values, read back by
 * DuckDB. The data has integer columns whose first row groups hold only int32 values and a later
 * one fractions, nulls, booleans, bigints beyond 2^53 and quoted text with commas and newlines.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pipeline, fromCsv, toParquet, filter } from '../../index.ts';
import { tempDir } from '../helpers.ts';
import { parquetReadBack } from '../lib/formats/parquet/duckdb.ts';

const dir = tempDir();
const ROWS = 6000;

function line(i: number): string {
  const price = i < 4000 ? String(i % 700) : `${i % 700}.25`;
  const note = i % 7 === 0 ? '' : i % 5 === 0 ? `"a, ""b""\nc${i}"` : `n${i}`;
  const flag = i % 3 === 0 ? 'true' : 'false';
  const big = String(9007199254740993n + BigInt(i));
  return `${i},${price},${i % 13 === 0 ? '' : -i},${flag},${note},${big}`;
}
const csv = join(dir, 'mixed.csv');
writeFileSync(csv, `id,price,qty,flag,note,big\n${Array.from({ length: ROWS }, (_, i) => line(i)).join('\n')}\n`);

test('negotiated Arrow and forced rows write the same Parquet schema and rows (DuckDB reads both)', async () => {
  const viaArrow = join(dir, 'arrow.parquet');
  const viaRows = join(dir, 'rows.parquet');
  // small row groups: the fractions arrive after the first row group is written
  const arrow = await pipeline(
    fromCsv(csv, { cast: true, batchSize: 500 }),
    toParquet(viaArrow, { rowGroupSize: 1000 }),
  );
  const rows = await pipeline(
    fromCsv(csv, { cast: true, batchSize: 500, output: 'rows' }),
    toParquet(viaRows, { rowGroupSize: 1000 }),
  );
  assert.equal(arrow.stats.stages[1]!.details.input, 'arrow');
  assert.equal(rows.stats.stages[1]!.details.input, 'rows');
  assert.equal(arrow.output.rows, ROWS);
  const a = await parquetReadBack(viaArrow, 'id');
  const r = await parquetReadBack(viaRows, 'id');
  assert.deepEqual(a.types, r.types);
  assert.deepEqual(a.types, ['id:DOUBLE', 'price:DOUBLE', 'qty:DOUBLE', 'flag:BOOLEAN', 'note:VARCHAR', 'big:BIGINT']);
  assert.equal(a.rows, r.rows);
  const sample = JSON.parse(a.rows) as unknown[][];
  assert.deepEqual(sample[5], [5, 5, -5, false, 'a, "b"\nc5', '9007199254740998']);
  assert.deepEqual(sample[4001]!.slice(0, 3), [4001, 501.25, -4001]);
});

test('with a filter between, the two forms still agree', async () => {
  const keep = (r: { id: number }): boolean => r.id % 3 !== 1;
  const viaArrow = join(dir, 'f-arrow.parquet');
  const viaRows = join(dir, 'f-rows.parquet');
  await pipeline(fromCsv(csv, { cast: true }), filter(keep), toParquet(viaArrow));
  await pipeline(fromCsv(csv, { cast: true, output: 'rows' }), filter(keep), toParquet(viaRows));
  const a = await parquetReadBack(viaArrow, 'id');
  const r = await parquetReadBack(viaRows, 'id');
  assert.deepEqual(a.types, r.types);
  assert.equal(a.rows, r.rows);
  assert.equal((JSON.parse(a.rows) as unknown[]).length, ROWS - ROWS / 3);
});
