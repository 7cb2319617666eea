/**
 * A CSV file holding only its header keeps its columns through a pipeline, as DuckDB's COPY of
 * it does: to CSV the header, to Parquet and Arrow text columns of those names. Before, the CSV
 * came out empty, the Arrow file had no columns and toParquet failed ("Cannot infer a Parquet
 * schema without rows").
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { tableFromIPC } from 'apache-arrow';
import { pipeline } from '../../lib/core/pipeline.ts';
import { fromCsv } from '../../sources/fromCsv.ts';
import { collect } from '../../sinks/collect.ts';
import { toCsv } from '../../sinks/toCsv.ts';
import { toArrow } from '../../sinks/toArrow.ts';
import { toParquet } from '../../sinks/toParquet.ts';
import { duckRows, sqlString } from '../lib/formats/parquet/duckdb.ts';
import { tempDir } from '../helpers.ts';

test('a CSV of only a header: CSV keeps the header, Parquet and Arrow get text columns, rows are none', async () => {
  const dir = tempDir();
  const csv = path.join(dir, 'header.csv');
  writeFileSync(csv, 'id,name,"price, usd"\r\n');
  for (const output of ['rows', 'arrow'] as const) {
    const out = path.join(dir, `out-${output}.csv`);
    await pipeline(fromCsv(csv, { cast: true, output }), toCsv(out), { governor: false });
    assert.equal(readFileSync(out, 'utf8'), 'id,name,"price, usd"\n', output);
  }
  const parquet = path.join(dir, 'out.parquet');
  await pipeline(fromCsv(csv), toParquet(parquet), { governor: false });
  const { rows } = await duckRows(`DESCRIBE SELECT * FROM read_parquet(${sqlString(parquet)})`);
  assert.deepEqual(
    rows.map((r) => `${String(r.column_name)}:${String(r.column_type)}`),
    ['id:VARCHAR', 'name:VARCHAR', 'price, usd:VARCHAR'],
  );
  const arrow = path.join(dir, 'out.arrow');
  await pipeline(fromCsv(csv), toArrow(arrow), { governor: false });
  assert.deepEqual(tableFromIPC(readFileSync(arrow)).schema.names, ['id', 'name', 'price, usd']);
  assert.deepEqual((await pipeline(fromCsv(csv), collect(), { governor: false })).output, []);
});

test('a CSV of only a header with a repeated name, and an empty file: the header rows would have, nothing from nothing', async () => {
  const dir = tempDir();
  const repeated = path.join(dir, 'repeated.csv');
  writeFileSync(repeated, 'a,b,a\n');
  const out = path.join(dir, 'repeated-out.csv');
  await pipeline(fromCsv(repeated), toCsv(out), { governor: false });
  // the names rows of such a file get (a repeated name gets a suffix, as DuckDB gives it)
  assert.equal(readFileSync(out, 'utf8'), 'a,b,a_1\n');
  const empty = path.join(dir, 'empty.csv');
  writeFileSync(empty, '');
  const emptyOut = path.join(dir, 'empty-out.csv');
  await pipeline(fromCsv(empty), toCsv(emptyOut), { governor: false });
  assert.equal(readFileSync(emptyOut, 'utf8'), '');
});
