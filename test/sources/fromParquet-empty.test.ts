/**
 * A Parquet file of no rows keeps its columns through a pipeline: converted to CSV it has its
 * header, to Arrow or Parquet its schema (as DuckDB's COPY of the same file writes them). Before,
 * the source yielded nothing, so the CSV was an empty file, the Arrow file had no columns, and
 * toParquet failed ("Cannot infer a Parquet schema without rows").
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { pipeline } from '../../lib/core/pipeline.ts';
import { fromParquet } from '../../sources/fromParquet.ts';
import { toCsv } from '../../sinks/toCsv.ts';
import { toArrow } from '../../sinks/toArrow.ts';
import { toParquet } from '../../sinks/toParquet.ts';
import { openArrowFile } from '../../lib/formats/arrow/ipc-reader.ts';
import { duckRows, duckRun, sqlString } from '../lib/formats/parquet/duckdb.ts';
import { tempDir } from '../helpers.ts';

const COLUMNS = ['id', 'name', 'price', 'tags', 'point', 'at'];

async function emptyFile(dir: string): Promise<string> {
  const file = path.join(dir, 'empty.parquet');
  await duckRun(
    `COPY (SELECT 1::INTEGER AS id, 'a' AS name, 1.5::DOUBLE AS price, ['x'] AS tags, {'x': 1, 'y': 2} AS point, TIMESTAMP '2026-01-01' AS at WHERE false) TO ${sqlString(file)} (FORMAT parquet)`,
  );
  return file;
}

test('a Parquet file of no rows converts to a CSV with its header, in both output forms', async () => {
  const dir = tempDir();
  const file = await emptyFile(dir);
  for (const output of ['rows', 'arrow'] as const) {
    const csv = path.join(dir, `empty-${output}.csv`);
    const { stats } = await pipeline(fromParquet(file, { output }), toCsv(csv), { governor: false });
    assert.equal(readFileSync(csv, 'utf8'), `${COLUMNS.join(',')}\n`, output);
    assert.equal(stats.rowsIn, 0);
  }
});

test('a Parquet file of no rows converts to Arrow and Parquet files with its schema (as DuckDB reads it)', async () => {
  const dir = tempDir();
  const file = await emptyFile(dir);
  const arrow = path.join(dir, 'empty.arrow');
  await pipeline(fromParquet(file), toArrow(arrow), { governor: false });
  const handle = await openArrowFile(arrow);
  try {
    assert.deepEqual(
      handle.schema.fields.map((f) => f.name),
      COLUMNS,
    );
    assert.equal(handle.numRows, 0);
  } finally {
    await handle.close();
  }
  const parquet = path.join(dir, 'again.parquet');
  await pipeline(fromParquet(file), toParquet(parquet), { governor: false });
  const described = async (f: string): Promise<string[]> =>
    (await duckRows(`DESCRIBE SELECT * FROM read_parquet(${sqlString(f)})`)).rows.map(
      (r) => `${String(r.column_name)}:${String(r.column_type)}`,
    );
  assert.deepEqual(await described(parquet), await described(file));
  assert.equal((await duckRows(`SELECT count(*) AS n FROM read_parquet(${sqlString(parquet)})`)).rows[0]!.n, '0');
});
