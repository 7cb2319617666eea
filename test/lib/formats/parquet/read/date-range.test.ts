/**
 * DATE values past a JavaScript Date's range (DuckDB's DATE reaches 5877642-06-25): rows were
 * Invalid Date, silently, and a `where` dropped their rows; now a coded error naming the file and
 * column. The Arrow form holds them (Date32), and inspectParquet marks such statistics invalid.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { pipeline, fromParquet, collect, inspectParquet, ErrorCodes, SpillwayError } from '../../../../../index.ts';
import type { Batch } from '../../../../../lib/core/batch.ts';
import { duckRun, sqlString } from '../duckdb.ts';
import { tempDir } from '../../../../helpers.ts';

const dir = tempDir('spillway-date-range-');

test('a DATE past the range of a JS Date is a coded error naming the column, not Invalid Date', async () => {
  const file = join(dir, 'far.parquet');
  await duckRun(
    `COPY (SELECT i, CASE WHEN i = 2 THEN DATE '300000-01-01' ELSE DATE '2020-01-01' + i::INTEGER END AS d,
       [CASE WHEN i = 2 THEN DATE '300000-01-01' ELSE DATE '2020-01-01' END] AS ld
     FROM range(3) t(i)) TO ${sqlString(file)} (FORMAT parquet)`,
  );
  for (const options of [{}, { columns: ['ld'] }, { where: { col: 'd', op: '>' as const, value: '2000-01-01' } }]) {
    await assert.rejects(pipeline(fromParquet(file, options), collect()), (error: unknown) => {
      assert.ok(error instanceof SpillwayError);
      assert.equal(error.code, ErrorCodes.UNSUPPORTED);
      assert.match(error.message, /outside the range of a JavaScript Date/);
      assert.match(error.message, /column `(d|ld)`/);
      assert.match(error.message, /far\.parquet/);
      return true;
    });
  }
  let days = 0;
  for await (const batch of fromParquet(file, { output: 'arrow', columns: ['d'] }) as AsyncIterable<Batch>)
    days += batch.arrow.getChild('d')!.toArray().length;
  assert.equal(days, 3);
  const info = await inspectParquet(file);
  const d = info.rowGroups[0]!.columns.find((c) => c.path === 'd')!;
  assert.equal(d.statistics?.invalid, true);
});
