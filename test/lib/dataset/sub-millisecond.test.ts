/**
 * `where` on microsecond and nanosecond timestamps keeps the rows DuckDB keeps: compared by
 * milliseconds, `ts > 12:00:00.000` dropped 12:00:00.000001 (and row groups were skipped by
 * statistics cut the same way), and `=` kept rows a microsecond away.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { pipeline, collect, fromParquet } from '../../../index.ts';
import { PreciseDate } from '../../../lib/formats/values.ts';
import type { Predicate } from '../../../lib/dataset/predicate.ts';
import { tempDir } from '../../helpers.ts';

test('where on microsecond and nanosecond timestamps keeps the rows DuckDB keeps', async () => {
  const file = join(tempDir(), 'micros.parquet');
  const db = await DuckDBInstance.create(':memory:', { threads: '1' });
  const con = await db.connect();
  await con.run(`COPY (SELECT i,
      TIMESTAMP '2024-01-01 12:00:00' + to_microseconds((i // 1000)::BIGINT) AS tsu,
      TIMESTAMP_NS '2024-01-01 12:00:00' + to_microseconds((i // 1000)::BIGINT) AS tsn
    FROM range(6000) t(i)) TO '${file}' (FORMAT parquet, ROW_GROUP_SIZE 1000)`);
  const base = Date.UTC(2024, 0, 1, 12);
  const cases: [Predicate, string][] = [];
  for (const col of ['tsu', 'tsn'])
    cases.push(
      [{ col, op: '>', value: '2024-01-01T12:00:00.000Z' }, `${col} > '2024-01-01 12:00:00'`],
      [{ col, op: '=', value: '2024-01-01T12:00:00Z' }, `${col} = '2024-01-01 12:00:00'`],
      [{ col, op: '>=', value: '2024-01-01T12:00:00.000003Z' }, `${col} >= '2024-01-01 12:00:00.000003'`],
      [{ col, op: '<', value: new PreciseDate(base, 2000) }, `${col} < '2024-01-01 12:00:00.000002'`],
      [{ col, op: '=', value: new PreciseDate(base, 4000) }, `${col} = '2024-01-01 12:00:00.000004'`],
    );
  for (const [where, sql] of cases) {
    const want = Number((await (await con.run(`SELECT count(*) FROM '${file}' WHERE ${sql}`)).getRows())[0]![0]);
    const { output, stats } = await pipeline(fromParquet(file, { where, columns: ['i'] }), collect());
    assert.equal(output.length, want, sql);
    // statistics never skip a group that holds a matching row (they skipped all five above)
    assert.ok(Number(stats.stages[0]!.details.rowGroupsSkipped ?? 0) <= 6 - Math.ceil(want / 1000), sql);
  }
  con.closeSync();
  db.closeSync();
});
