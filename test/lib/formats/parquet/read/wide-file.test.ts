/**
 * A Parquet file of 20,000 columns reads as rows and as Arrow with every value right. Each column
 * that opened searched the whole schema and every chunk of its row group by name, and the Arrow
 * reader rebuilt the schema tree once a column: 20 rows of 20,000 columns took 22.5 s as rows and
 * 300 s as Arrow (2.6 s and 3.2 s now, on a loaded 2-core machine; the figures are in the
 * CHANGELOG, the test's timeout only catches the quadratic cost coming back).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parquetSchema } from 'hyparquet';
import { getTreePath } from 'hyparquet/src/schema.js';
import { pipeline, fromCsv, fromParquet, toParquet, collect, mapBatch } from '../../../../../index.ts';
import { chunksNamed, treePath } from '../../../../../lib/formats/parquet/read/column-index.ts';
import { tempDir } from '../../../../helpers.ts';

const COLUMNS = 20_000;
const ROWS = 20;

test(`a ${COLUMNS}-column Parquet file reads as rows and as Arrow with every value`, { timeout: 120_000 }, async () => {
  const dir = tempDir();
  const csv = join(dir, 'wide.csv');
  const lines = [Array.from({ length: COLUMNS }, (_, c) => `c${c}`).join(',')];
  for (let r = 0; r < ROWS; r++) lines.push(Array.from({ length: COLUMNS }, (_, c) => String(c * 31 + r)).join(','));
  writeFileSync(csv, `${lines.join('\n')}\n`);
  const file = join(dir, 'wide.parquet');
  await pipeline(fromCsv(csv, { cast: true }), toParquet(file));
  for (const output of ['rows', 'arrow'] as const) {
    let checked = 0;
    await pipeline(
      fromParquet(file, { output }),
      mapBatch((rows: Record<string, number>[]) => {
        for (const [r, row] of rows.entries())
          for (const c of [0, 1, 9_999, COLUMNS - 1])
            assert.equal(row[`c${c}`], c * 31 + r + checked, `${output} c${c}`);
        checked += rows.length;
        return rows;
      }),
      collect(),
    );
    assert.equal(checked, ROWS, output);
  }
});

test("the indexed lookups give hyparquet's answers: a schema element's path, a row group's chunks of a column", async () => {
  const dir = tempDir();
  const file = join(dir, 'nested.parquet');
  const { DuckDBInstance } = await import('@duckdb/node-api');
  const db = await DuckDBInstance.create(':memory:');
  const c = await db.connect();
  await c.run(`COPY (SELECT 1 AS a, {'x': 1, 'y': [2, 3]} AS s, [{'z': 'q'}] AS l, 'text' AS t) TO '${file}'`);
  c.closeSync();
  db.closeSync();
  const { parquetMetadataAsync, asyncBufferFromFile } = await import('hyparquet');
  const metadata = await parquetMetadataAsync(await asyncBufferFromFile(file));
  const tree = parquetSchema(metadata);
  const chunks = metadata.row_groups[0]!.columns;
  for (const chunk of chunks) {
    const path = chunk.meta_data!.path_in_schema;
    assert.deepEqual(
      treePath(tree, path).map((n) => n.element.name),
      getTreePath(tree, path).map((n) => n.element.name),
    );
  }
  for (const name of ['a', 's', 'l', 't', 'missing'])
    assert.deepEqual(
      chunksNamed(chunks, name),
      chunks.filter((chunk) => chunk.meta_data?.path_in_schema[0] === name),
    );
});
